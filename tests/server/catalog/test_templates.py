"""Templates, ISOs and OS types over HTTP with the real `cs` client."""

from __future__ import annotations

from .conftest import WINDOWS_2019, Catalog, refused


def test_os_types_and_categories(catalog: Catalog) -> None:
    types = catalog.cs.listOsTypes()["ostype"]
    names = {t["description"] for t in types}
    assert {"Windows Server 2012 R2 (64-bit)", "Windows Server 2016 (64-bit)", "Windows Server 2019 (64-bit)",
            "Windows Server 2022 (64-bit)", "CentOS 7", "Ubuntu 22.04 LTS"} <= names
    windows = next(c for c in catalog.cs.listOsCategories()["oscategory"] if c["name"] == "Windows")
    in_windows = catalog.cs.listOsTypes(oscategoryid=windows["id"])["ostype"]
    assert all(t["oscategoryname"] == "Windows" for t in in_windows)
    assert WINDOWS_2019 in {t["description"] for t in in_windows} and "CentOS 7" not in {
        t["description"] for t in in_windows}
    one = catalog.os_type()
    assert catalog.cs.listOsTypes(id=one["id"])["ostype"] == [one]
    assert catalog.cs.listOsTypes(keyword="2022")["count"] == 1
    assert "oscategoryid" in refused(catalog.cs.listOsTypes, oscategoryid="windows").text


def test_register_list_update_templates(catalog: Catalog) -> None:
    where = catalog.placement()
    zone = where["zone"]
    template = catalog.template(zone, ispublic=True)
    assert (template["name"], template["format"], template["hypervisor"]) == ("WS2019", "VHD", "Hyperv")
    assert (template["status"], template["isready"], template["ostypename"]) == (
        "Download Complete", True, WINDOWS_2019)
    assert (template["zoneid"], template["zonename"], template["account"]) == (zone["id"], "HVCluster", "admin")
    assert template["crossZones"] is False and template["templatetype"] == "USER"

    vhdx = catalog.cs.registerTemplate(name="Ubuntu", displaytext="Ubuntu 22.04", format="vhdx",
                                       hypervisor="Hyperv", url="https://images.example.org/jammy.vhdx.zip",
                                       zoneid="-1")["template"][0]
    assert vhdx["format"] == "VHDX" and vhdx["crossZones"] is True and "zoneid" not in vhdx
    assert vhdx["ostypename"] == "Other (64-bit)"

    mine = catalog.cs.listTemplates(templatefilter="self")
    assert mine["count"] == 2
    assert catalog.cs.listTemplates(templatefilter="executable", zoneid=zone["id"])["count"] == 2
    assert catalog.cs.listTemplates(templatefilter="self", id=template["id"])["template"][0] == template
    assert catalog.cs.listTemplates(templatefilter="featured") == {}
    assert catalog.cs.listTemplates(templatefilter="self", hypervisor="KVM") == {}

    user = catalog.client(catalog.account())
    seen = user.listTemplates(templatefilter="executable")["template"]
    assert [t["name"] for t in seen] == ["WS2019"]  # the public one; the admin's private one stays hidden
    assert "url" not in seen[0]
    assert user.listTemplates(templatefilter="self") == {}
    assert refused(user.updateTemplate, id=template["id"], name="mine now").errorcode == 531

    updated = catalog.cs.updateTemplate(id=template["id"], displaytext="WS 2019 Datacenter",
                                        ostypeid=catalog.os_type("Windows Server 2022 (64-bit)")["id"])["template"]
    assert updated["displaytext"] == "WS 2019 Datacenter"
    assert updated["ostypename"] == "Windows Server 2022 (64-bit)"

    own = user.registerTemplate(name="Mine", format="VHD", hypervisor="Hyper-V", zoneid=zone["id"],
                                url="http://images.example.org/mine.vhd")["template"][0]
    assert own["account"] != "admin" and own["ispublic"] is False
    assert [t["name"] for t in user.listTemplates(templatefilter="self")["template"]] == ["Mine"]
    assert catalog.cs.listTemplates(templatefilter="all")["count"] == 3
    assert catalog.cs.listTemplates(templatefilter="self")["count"] == 2

    assert catalog.cs.updateTemplatePermissions(id=own["id"], ispublic=True, isfeatured=True)["success"] is True
    assert [t["name"] for t in catalog.cs.listTemplates(templatefilter="featured")["template"]] == ["Mine"]
    assert refused(user.updateTemplatePermissions, id=own["id"], isfeatured=False).errorcode == 531
    assert refused(user.updateTemplatePermissions, id=template["id"], ispublic=False).errorcode == 531
    assert user.updateTemplatePermissions(id=own["id"], ispublic=False)["success"] is True
    assert catalog.cs.listTemplates(templatefilter="featured") == {}

    kinds = [e["type"] for e in catalog.cs.listEvents(listall=True)["event"]]
    assert kinds.count("TEMPLATE.CREATE") == 3 and "TEMPLATE.UPDATE" in kinds


def test_template_refusals_change_nothing(sqlite_catalog: Catalog) -> None:
    zone = sqlite_catalog.placement()["zone"]
    api = sqlite_catalog.cs
    good = {"name": "t", "format": "VHD", "hypervisor": "Hyper-V", "url": "http://example.org/t.vhd",
            "zoneid": zone["id"]}
    for missing in ("name", "format", "hypervisor", "url", "zoneid"):
        failure = refused(api.registerTemplate, **{k: v for k, v in good.items() if k != missing})
        assert (failure.errorcode, failure.cserrorcode) == (431, 4350)
        assert f"missing parameter {missing}" in failure.text
    assert "format" in refused(api.registerTemplate, **{**good, "format": "QCOW2"}).text
    assert "hypervisor" in refused(api.registerTemplate, **{**good, "hypervisor": "KVM"}).text
    assert "Unsupported scheme" in refused(api.registerTemplate, **{**good, "url": "ftp://example.org/t.vhd"}).text
    assert "invalid for the format" in refused(api.registerTemplate, **{**good, "url": "http://e.org/t.iso"}).text
    assert "zoneid" in refused(api.registerTemplate, **{**good, "zoneid": "HVCluster"}).text
    assert "ostypeid" in refused(api.registerTemplate, **{**good,
                                                          "ostypeid": "00000000-0000-0000-0000-000000000000"}).text
    assert "templatefilter" in refused(api.listTemplates).text
    assert "templatefilter" in refused(api.listTemplates, templatefilter="mine").text
    assert api.listTemplates(templatefilter="all") == {}


def test_isos(catalog: Catalog) -> None:
    zone = catalog.placement()["zone"]
    iso = catalog.cs.registerIso(name="WS2022 media", url="http://images.example.org/ws2022.iso",
                                 zoneid=zone["id"], ostypeid=catalog.os_type()["id"], ispublic=True)["iso"][0]
    assert (iso["format"], iso["bootable"], iso["isready"], iso["status"]) == ("ISO", True, True,
                                                                               "Download Complete")
    assert "hypervisor" not in iso
    assert catalog.cs.listIsos()["iso"][0]["id"] == iso["id"]
    assert catalog.cs.listIsos(bootable=False) == {}
    assert catalog.cs.listTemplates(templatefilter="all") == {}  # ISOs are not templates
    assert catalog.client(catalog.account()).listIsos(isofilter="executable")["count"] == 1
    assert catalog.cs.updateIso(id=iso["id"], displaytext="media")["iso"]["displaytext"] == "media"
    assert "invalid for the format" in refused(catalog.cs.registerIso, name="x", zoneid=zone["id"],
                                               url="http://images.example.org/x.vhd").text
    assert catalog.cs.listIsos()["count"] == 1
