"""CloudStack's error envelope: HTTP status = errorcode, cserrorcode, errortext a person can act on."""

from __future__ import annotations

from typing import Any

from wire_client import ApiCaller

from clusterstack.server.api.errors import UNKNOWN_COMMAND_TEXT
from clusterstack.server.api.registry import ADMIN, api_command, find_command

FAILING_COMMAND = "failForWireTest"
SECRET_DETAIL = "disk on fire at /srv/secret-path"


def _register_failing_command() -> None:
    """A test-only command whose handler fails the way a bug would (it is never part of the product)."""
    if find_command(FAILING_COMMAND) is None:

        @api_command(FAILING_COMMAND, description="test only: fails with an unexpected exception", roles=ADMIN)
        def fail(ctx: Any, p: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError(SECRET_DETAIL)


def test_unknown_command_is_432_with_cloudstacks_text(api_on: ApiCaller) -> None:
    response = api_on.get("noSuchCommand", response="json")
    assert response.status_code == 432
    body = response.json()["errorresponse"]
    assert body == {"uuidList": [], "errorcode": 432, "cserrorcode": 9999, "errortext": UNKNOWN_COMMAND_TEXT}
    assert UNKNOWN_COMMAND_TEXT == "The given command does not exist or it is not available for user"


def test_unknown_command_in_xml(api: ApiCaller) -> None:
    response = api.get("noSuchCommand")
    assert response.status_code == 432
    assert "<errorresponse " in response.text
    assert "<errorcode>432</errorcode>" in response.text
    assert f"<errortext>{UNKNOWN_COMMAND_TEXT}</errortext>" in response.text


def test_missing_parameter_is_431_with_4350_naming_it(api_on: ApiCaller) -> None:
    status, body = api_on.json("getCloudIdentifier")
    assert status == 431
    assert body["errorcode"] == 431 and body["cserrorcode"] == 4350
    assert "userid" in body["errortext"]
    assert body["errortext"] == "Unable to execute API command getcloudidentifier due to missing parameter userid"


def test_malformed_parameter_is_431_naming_it(api: ApiCaller) -> None:
    status, body = api.json("listZones", id="not-a-uuid")
    assert status == 431 and body["cserrorcode"] == 4350
    assert "id" in body["errortext"] and "not-a-uuid" in body["errortext"]
    status, body = api.json("listZones", page="two", pagesize=5)
    assert status == 431 and "page" in body["errortext"]


def test_a_refused_create_changes_nothing(api_on: ApiCaller) -> None:
    status, body = api_on.json("createZone", name="half", networktype="Advanced")  # no dns1, internaldns1
    assert status == 431, body
    assert api_on.json("listZones") == (200, {})


def test_internal_failure_is_530_without_a_stack_trace(api: ApiCaller) -> None:
    _register_failing_command()
    response = api.get(FAILING_COMMAND, response="json")
    assert response.status_code == 530
    body = response.json()["failforwiretestresponse"]
    assert body["errorcode"] == 530 and body["cserrorcode"] == 4250
    assert body["errortext"]
    assert SECRET_DETAIL not in response.text
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
    xml = api.get(FAILING_COMMAND)
    assert xml.status_code == 530 and "Traceback" not in xml.text and SECRET_DETAIL not in xml.text


def test_http_status_equals_errorcode_for_every_error(api: ApiCaller) -> None:
    _register_failing_command()
    answers = [
        api.get("noSuchCommand", response="json"),
        api.get("getCloudIdentifier", response="json"),
        api.get(FAILING_COMMAND, response="json"),
        ApiCaller(api.endpoint, "unknown", "x").get("listZones", response="json"),
    ]
    for response in answers:
        [body] = response.json().values()
        assert response.status_code == body["errorcode"], body


def test_no_command_at_all_is_an_errorresponse(api: ApiCaller) -> None:
    response = api.http.get(api.endpoint, params={"response": "json"})
    assert response.status_code in (401, 432)
    [(key, body)] = response.json().items()
    assert key == "errorresponse" and body["errorcode"] == response.status_code


def test_a_known_command_the_caller_may_not_call_answers_under_its_own_name(live_server: Any) -> None:
    """A plain user asking for an admin command: 432 with CloudStack's text, keyed by the command."""
    admin = live_server.cs()
    domain = admin.listDomains(name="ROOT")["domain"][0]
    admin.createAccount(accounttype=0, username="plain", password="Pl41n-pass!", email="p@example.com",
                        firstname="P", lastname="Lain", domainid=domain["id"], account="plain")
    user = admin.listUsers(username="plain", listall=True)["user"][0]
    keys = admin.registerUserKeys(id=user["id"])["userkeys"]
    plain = ApiCaller(live_server.endpoint, keys["apikey"], keys["secretkey"])
    response = plain.get("createZone", response="json", name="z", networktype="Basic", dns1="8.8.8.8",
                         internaldns1="10.0.0.1")
    assert response.status_code == 432
    body = response.json()["createzoneresponse"]
    assert body["errortext"] == UNKNOWN_COMMAND_TEXT
