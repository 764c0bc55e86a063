"""Answers on the wire: XML by default, JSON on request, `<command>response` keys, lists, nulls, dates."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from wire_client import ApiCaller

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$")


def _zone(api: ApiCaller, name: str, **extra: Any) -> dict[str, Any]:
    status, body = api.json("createZone", name=name, dns1="8.8.8.8", internaldns1="10.0.0.1",
                            networktype="Advanced", **extra)
    assert status == 200, body
    return body["zone"]


def test_xml_is_the_default_with_the_command_response_element(api: ApiCaller) -> None:
    response = api.get("listCapabilities")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "listcapabilitiesresponse"
    assert root.get("cloud-stack-version")
    capability = root.find("capability")
    assert capability is not None
    assert capability.findtext("dynamicrolesenabled") == "true"


def test_json_on_request_with_the_command_response_key(api: ApiCaller) -> None:
    response = api.get("listCapabilities", response="json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["listcapabilitiesresponse"]
    assert body["listcapabilitiesresponse"]["capability"]["cloudstackversion"].startswith("4.")


def test_response_format_name_and_value_are_case_insensitive(api: ApiCaller) -> None:
    response = api.get("listCapabilities", Response="JSON")
    assert response.headers["content-type"].startswith("application/json")
    assert "listcapabilitiesresponse" in response.json()


def test_empty_list_is_an_empty_object(api_on: ApiCaller) -> None:
    status, body = api_on.json("listZones")
    assert status == 200
    assert body == {}
    xml = ET.fromstring(api_on.get("listZones").content)
    assert xml.tag == "listzonesresponse" and list(xml) == []


def test_list_has_count_and_entity_array_in_json_and_repeated_elements_in_xml(api_on: ApiCaller) -> None:
    created = [_zone(api_on, f"zone-{i}") for i in range(3)]
    status, body = api_on.json("listZones")
    assert status == 200
    assert body["count"] == 3
    assert sorted(z["id"] for z in body["zone"]) == sorted(z["id"] for z in created)
    root = ET.fromstring(api_on.get("listZones").content)
    assert root.findtext("count") == "3"
    assert sorted(e.findtext("name") for e in root.findall("zone")) == ["zone-0", "zone-1", "zone-2"]


def test_paging_keeps_the_total_count(api_on: ApiCaller) -> None:
    for i in range(5):
        _zone(api_on, f"z{i}")
    seen: list[str] = []
    for page in (1, 2, 3):
        status, body = api_on.json("listZones", page=page, pagesize=2)
        assert status == 200
        assert body["count"] == 5
        seen.extend(z["id"] for z in body["zone"])
    assert len(seen) == len(set(seen)) == 5


def test_null_fields_are_omitted(api: ApiCaller) -> None:
    zone = _zone(api, "no-second-dns")
    assert zone["dns1"] == "8.8.8.8"
    assert "dns2" not in zone
    assert None not in zone.values()
    root = ET.fromstring(api.get("listZones", id=zone["id"]).content)
    assert root.find("zone/dns2") is None
    assert root.findtext("zone/dns1") == "8.8.8.8"


def test_ids_are_uuids(api: ApiCaller) -> None:
    zone = _zone(api, "uuid-zone")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", zone["id"])


def test_dates_use_cloudstacks_format(api: ApiCaller) -> None:
    _zone(api, "dated")
    status, body = api.json("listEvents", type="ZONE.CREATE")
    assert status == 200, body
    assert body["count"] >= 1
    for event in body["event"]:
        assert DATE.match(event["created"]), event["created"]


def test_get_and_form_post_give_the_same_answer(api: ApiCaller) -> None:
    created = api.post("createZone", response="json", name="posted", dns1="1.1.1.1", internaldns1="10.0.0.1",
                       networktype="Basic")
    assert created.status_code == 200, created.text
    zone = created.json()["createzoneresponse"]["zone"]
    by_get = api.get("listZones", response="json", id=zone["id"]).json()
    by_post = api.post("listZones", response="json", id=zone["id"]).json()
    assert by_get == by_post
    assert by_get["listzonesresponse"]["zone"][0]["name"] == "posted"


def test_xml_escapes_text(api: ApiCaller) -> None:
    zone = _zone(api, "a<b>&\"c'")
    root = ET.fromstring(api.get("listZones", id=zone["id"]).content)
    assert root.findtext("zone/name") == "a<b>&\"c'"


def test_a_page_past_the_end_has_the_count_and_no_entity(api: ApiCaller) -> None:
    for i in range(2):
        _zone(api, f"few-{i}")
    status, body = api.json("listZones", page=3, pagesize=2)
    assert status == 200
    assert body == {"count": 2}
    root = ET.fromstring(api.get("listZones", page=3, pagesize=2).content)
    assert root.findtext("count") == "2" and root.find("zone") is None
