"""listConfigurations / updateConfiguration / resetConfiguration over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from .conftest import Cloud, refused


def test_update_configuration_takes_effect_and_is_recorded(cloud: Cloud) -> None:
    listed = cloud.cs.listConfigurations(name="default.page.size")["configuration"]
    assert len(listed) == 1
    setting = listed[0]
    assert (setting["value"], setting["defaultvalue"], setting["type"]) == ("500", "500", "Number")
    assert setting["category"] == "Advanced" and setting["isdynamic"] is True

    changed = cloud.cs.updateConfiguration(name="default.page.size", value="5")["configuration"]
    assert changed["value"] == "5"
    assert cloud.cs.listConfigurations(name="default.page.size")["configuration"][0]["value"] == "5"
    too_big = refused(cloud.cs.listZones, pagesize=10)
    assert too_big.errorcode == 431 and "5" in too_big.text

    reset = cloud.cs.resetConfiguration(name="default.page.size")["configuration"]
    assert reset["value"] == "500"
    edits = cloud.events(type="CONFIGURATION.VALUE.EDIT")
    assert len(edits) == 2 and all("default.page.size" in e["description"] for e in edits)


def test_list_configurations_filters_and_pages(cloud: Cloud) -> None:
    everything = cloud.cs.listConfigurations()
    assert everything["count"] == len(everything["configuration"]) >= 2
    names = [c["name"] for c in everything["configuration"]]
    assert names == sorted(names)
    assert "default.page.size" in names
    assert all(c["category"] == "Advanced" for c in cloud.cs.listConfigurations(category="advanced")["configuration"])
    assert cloud.cs.listConfigurations(keyword="page")["count"] >= 1
    assert cloud.cs.listConfigurations(keyword="no-such-setting-anywhere") == {}
    first = cloud.cs.listConfigurations(page=1, pagesize=1)
    assert first["count"] == everything["count"] and len(first["configuration"]) == 1
    zone = cloud.zone()
    assert cloud.cs.listConfigurations(zoneid=zone["id"]) == {}  # no zone-scoped settings


def test_bad_configuration_updates_change_nothing(cloud: Cloud) -> None:
    before = cloud.cs.listConfigurations()
    events_before = len(cloud.events())
    assert "missing parameter name" in refused(cloud.cs.updateConfiguration, value="1").text
    unknown = refused(cloud.cs.updateConfiguration, name="no.such.setting", value="1")
    assert unknown.errorcode == 431 and "no.such.setting" in unknown.text
    not_a_number = refused(cloud.cs.updateConfiguration, name="default.page.size", value="many")
    assert not_a_number.errorcode == 431 and "default.page.size" in not_a_number.text
    below_minimum = refused(cloud.cs.updateConfiguration, name="default.page.size", value="0")
    assert below_minimum.errorcode == 431 and "minimum" in below_minimum.text
    zone = cloud.zone()
    scoped = refused(cloud.cs.updateConfiguration, name="default.page.size", value="7", zoneid=zone["id"])
    assert scoped.errorcode == 431 and "global" in scoped.text
    assert cloud.cs.listConfigurations() == before
    assert [e["type"] for e in cloud.events()][: len(cloud.events()) - events_before] == ["ZONE.CREATE"]


def test_users_may_not_read_or_change_configuration(sqlite_cloud: Cloud) -> None:
    user = sqlite_cloud.user_client()
    assert refused(user.listConfigurations).errorcode == 432
    assert refused(user.updateConfiguration, name="default.page.size", value="1").errorcode == 432
    assert sqlite_cloud.cs.listConfigurations(name="default.page.size")["configuration"][0]["value"] == "500"
