"""deleteTemplate and deleteIso are async, as in CloudStack: the `cs` client waits for their jobs."""

from __future__ import annotations

import pytest

from .conftest import HA_OFFERING, Catalog, refused

pytest.importorskip("clusterstack.server.jobs.service", reason="the async jobs service has not landed yet")


def test_delete_template_and_iso(catalog: Catalog) -> None:
    where = catalog.placement()
    template = catalog.template(where["zone"])
    spare = catalog.template(where["zone"], name="spare")
    iso = catalog.cs.registerIso(name="media", url="http://images.example.org/media.iso",
                                 zoneid=where["zone"]["id"])["iso"][0]
    offering = catalog.cs.createServiceOffering(**HA_OFFERING)["serviceoffering"]
    catalog.seed_vms(1, account=catalog.account(), offering=offering, template=template, where=where)

    in_use = refused(catalog.cs.deleteTemplate, id=template["id"])  # refused before any job is queued
    assert in_use.errorcode == 431 and "are using it" in in_use.text and "forced" in in_use.text
    assert "id" in refused(catalog.cs.deleteIso, id=template["id"]).text  # a template is not an ISO
    assert catalog.cs.deleteTemplate(id=spare["id"])["success"] is True
    assert catalog.cs.deleteIso(id=iso["id"])["success"] is True
    assert [t["name"] for t in catalog.cs.listTemplates(templatefilter="all")["template"]] == ["WS2019"]
    assert catalog.cs.listIsos(isofilter="all") == {}
    assert catalog.cs.deleteTemplate(id=template["id"], forced=True)["success"] is True
    assert catalog.cs.listTemplates(templatefilter="all") == {}
    kinds = [e["type"] for e in catalog.cs.listEvents(listall=True)["event"]]
    assert kinds.count("TEMPLATE.DELETE") == 2 and "ISO.DELETE" in kinds
