"""listApis (what `cmk sync` stores), listCapabilities and getCloudIdentifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from typing import Any

from wire_client import ApiCaller

from clusterstack.server.api.registry import PARAM_TYPES, all_commands


def _cmk_cache(listapis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Read a listApis answer the way CloudMonkey's config.UpdateCache does, with its type assertions."""
    cache: dict[str, dict[str, Any]] = {}
    assert isinstance(listapis["count"], int)
    for api in listapis["api"]:
        assert isinstance(api["name"], str) and isinstance(api["isasync"], bool)
        assert isinstance(api["description"], str)
        args = []
        for arg in api["params"]:
            assert isinstance(arg["name"], str) and isinstance(arg["type"], str)
            assert isinstance(arg["required"], bool) and isinstance(arg["description"], str)
            if "related" in arg:
                assert isinstance(arg["related"], str)
            args.append(arg)
        verb_end = next((i for i, ch in enumerate(api["name"]) if not ch.islower()), len(api["name"]))
        cache[api["name"].lower()] = {
            "verb": api["name"][:verb_end],
            "required": sorted(a["name"] for a in args if a["required"]),
            "args": {a["name"]: a for a in args},
            "async": api["isasync"],
        }
    return cache


def test_listapis_lists_every_registered_command_for_the_root_admin(api_on: ApiCaller) -> None:
    status, body = api_on.json("listApis")
    assert status == 200
    assert body["count"] == len(body["api"])
    listed = {a["name"] for a in body["api"]}
    registered = {c.name for c in all_commands()}
    assert listed == registered


def test_listapis_is_complete_enough_for_cmk_sync(api: ApiCaller) -> None:
    status, body = api.json("listApis")
    assert status == 200
    cache = _cmk_cache(body)
    zone = cache["createzone"]
    assert zone["verb"] == "create" and zone["async"] is False
    assert "name" in zone["required"]
    for command in all_commands():
        entry = cache[command.name.lower()]
        assert entry["async"] is command.isasync
        assert set(entry["args"]) == {p.name for p in command.params}
        for param in command.params:
            listed = entry["args"][param.name]
            assert listed["type"] == param.type and listed["type"] in PARAM_TYPES
            assert listed["required"] is param.required
            assert listed["length"] == param.length
            assert listed.get("since", "") == param.since


def test_listapis_reports_response_fields(api: ApiCaller) -> None:
    status, body = api.json("listApis", name="listZones")
    assert status == 200 and body["count"] == 1
    [entry] = body["api"]
    fields = {f["name"]: f for f in entry["response"]}
    assert {"id", "name", "networktype", "allocationstate"} <= set(fields)
    assert all(set(f) == {"name", "description", "type"} for f in fields.values())


def test_listapis_name_filter_is_case_insensitive(api: ApiCaller) -> None:
    status, body = api.json("listApis", name="LISTAPIS")
    assert status == 200 and [a["name"] for a in body["api"]] == ["listApis"]
    params = {p["name"]: p for p in body["api"][0]["params"]}
    assert params["name"]["type"] == "string" and params["name"]["required"] is False


def test_listapis_unknown_name_is_a_431(api: ApiCaller) -> None:
    status, body = api.json("listApis", name="noSuchApi")
    assert status == 431 and body["cserrorcode"] == 4350


def test_listapis_in_xml_nests_params(api: ApiCaller) -> None:
    root = ET.fromstring(api.get("listApis", name="createZone").content)
    [entry] = root.findall("api")
    assert entry.findtext("name") == "createZone"
    assert entry.findtext("isasync") == "false"
    names = {p.findtext("name") for p in entry.findall("params")}
    assert {"name", "dns1", "networktype"} <= names


def test_listcapabilities(api_on: ApiCaller) -> None:
    status, body = api_on.json("listCapabilities")
    assert status == 200
    capability = body["capability"]
    assert capability["cloudstackversion"] == "4.19.0.0"
    assert capability["dynamicrolesenabled"] is True
    assert capability["securitygroupsenabled"] is False
    assert capability["supportELB"] == "false"
    assert capability["customdiskofferingmaxsize"] >= capability["customdiskofferingminsize"]


def test_getcloudidentifier_is_stable_and_signed_with_the_users_secret(live_server: Any, api: ApiCaller) -> None:
    user_uuid = _admin_uuid(live_server)
    status, first = api.json("getCloudIdentifier", userid=user_uuid)
    assert status == 200, first
    ident = first["cloudidentifier"]
    assert ident["userid"] == user_uuid and len(ident["cloudidentifier"]) == 36
    expected = base64.b64encode(hmac.new(api.secret.encode(), ident["cloudidentifier"].encode(),
                                         hashlib.sha1).digest()).decode()
    assert ident["signature"] == expected
    _, second = api.json("getCloudIdentifier", userid=user_uuid)
    assert second["cloudidentifier"]["cloudidentifier"] == ident["cloudidentifier"]


def test_getcloudidentifier_for_an_unknown_user_is_431(api: ApiCaller) -> None:
    status, body = api.json("getCloudIdentifier", userid="6a1f1c51-0000-4000-8000-000000000000")
    assert status == 431 and "6a1f1c51-0000-4000-8000-000000000000" in body["errortext"]


def _admin_uuid(live_server: Any) -> str:
    from sqlalchemy import select

    from clusterstack.server.db.models.identity import User

    with live_server.state.database.session() as db:
        return db.scalar(select(User.uuid).where(User.username == "admin"))


def test_listapis_lists_only_what_a_plain_user_may_call(live_server: Any) -> None:
    admin = live_server.cs()
    domain = admin.listDomains(name="ROOT")["domain"][0]
    admin.createAccount(accounttype=0, username="plain", password="Pl41n-pass!", email="p@example.com",
                        firstname="P", lastname="Lain", domainid=domain["id"], account="plain")
    user = admin.listUsers(username="plain", listall=True)["user"][0]
    keys = admin.registerUserKeys(id=user["id"])["userkeys"]
    plain = ApiCaller(live_server.endpoint, keys["apikey"], keys["secretkey"])
    status, body = plain.json("listApis")
    assert status == 200
    names = {a["name"] for a in body["api"]}
    assert {"listZones", "listApis", "listCapabilities"} <= names
    assert "createZone" not in names and "updateConfiguration" not in names
    assert body["count"] == len(names) < len(all_commands())
    status, refused = plain.json("listApis", name="createZone")
    assert status == 431 and refused["cserrorcode"] == 4350


def test_uuid_parameters_name_the_list_command_cmk_completes_them_with(api: ApiCaller) -> None:
    status, body = api.json("listApis")
    assert status == 200
    params = {(a["name"], p["name"]): p for a in body["api"] for p in a["params"]}
    assert params[("createPod", "zoneid")]["related"] == "listZones"
    assert params[("deleteZone", "id")]["related"] == "listZones"
    assert params[("updateServiceOffering", "id")]["related"] == "listServiceOfferings"
    assert params[("getUserKeys", "id")]["related"] == "listUsers"
    assert "related" not in params[("createZone", "name")]
    listed = {a["name"] for a in body["api"]}
    assert all(set(p["related"].split(",")) <= listed for p in params.values() if "related" in p)
