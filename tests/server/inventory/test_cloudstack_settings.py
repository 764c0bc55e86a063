"""updateConfiguration as CloudStack answers it where its own tests look: an unknown setting is refused with
CloudStack's own words (ConfigurationManagerImpl.updateConfiguration), and the instance lease settings
(VMLeaseManager) exist with CloudStack's defaults but cannot be turned on, since clusterstack has no leases."""

from __future__ import annotations

from .conftest import Cloud, refused


def test_an_unknown_setting_is_refused_as_cloudstack_refuses_it(sqlite_cloud: Cloud) -> None:
    for command in (sqlite_cloud.cs.updateConfiguration, sqlite_cloud.cs.resetConfiguration):
        unknown = refused(command, name="no.such.setting", value="1")
        assert (unknown.errorcode, unknown.text) == (431, "Config parameter with name no.such.setting doesn't exist")


def test_instance_lease_settings_keep_their_defaults(sqlite_cloud: Cloud) -> None:
    cs = sqlite_cloud.cs
    listed = {c["name"]: c for c in cs.listConfigurations(name="instance.lease")["configuration"]}
    assert {name: c["value"] for name, c in listed.items()} == {
        "instance.lease.enabled": "false", "instance.lease.scheduler.interval": "3600",
        "instance.lease.eventscheduler.interval": "86400", "instance.lease.expiryevent.daysbefore": "7"}
    assert cs.updateConfiguration(name="instance.lease.enabled", value="false")["configuration"]["value"] == "false"
    turned_on = refused(cs.updateConfiguration, name="instance.lease.enabled", value="true")
    assert turned_on.errorcode == 431
    assert "instance.lease.enabled stays false" in turned_on.text and "no instance leases" in turned_on.text
    assert cs.listConfigurations(name="instance.lease.enabled")["configuration"][0]["value"] == "false"
    assert refused(cs.updateConfiguration, name="instance.lease.expiryevent.daysbefore", value="3").errorcode == 431
