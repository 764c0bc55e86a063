"""Signatures: v1 and v3 as CloudStack verifies them, in the variants real clients send."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import cs
import pytest
from wire_client import ApiCaller, java_style_signature, libcloud_style_signature

from clusterstack.server import settings


def _status(response: Any) -> int:
    return response.status_code


def test_v1_signature_without_expires_is_accepted(api: ApiCaller) -> None:
    assert _status(api.get("listCapabilities", version=1)) == 200


def test_v3_signature_is_accepted(api: ApiCaller) -> None:
    assert _status(api.get("listCapabilities", version=3)) == 200


def test_v3_with_past_expires_is_refused_with_401(api: ApiCaller) -> None:
    response = api.get("listCapabilities", response="json", expires=timedelta(minutes=-1))
    assert response.status_code == 401
    error = response.json()["listcapabilitiesresponse"]
    assert error["errorcode"] == 401


def test_v3_without_expires_is_refused(api: ApiCaller) -> None:
    params = {"command": "listCapabilities", "apiKey": api.key, "signatureVersion": "3", "response": "json"}
    params["signature"] = java_style_signature(params, api.secret)
    assert api.http.get(api.endpoint, params=params).status_code == 401


def test_expires_too_far_ahead_is_refused_by_default(live_server: Any, api: ApiCaller) -> None:
    # api.signature.max.ahead.minutes is 15 by default (it was 0, no limit: a leaked URL worked for years)
    assert _status(api.get("listCapabilities", expires=timedelta(days=3650))) == 401
    assert _status(api.get("listCapabilities", expires=timedelta(minutes=60))) == 401
    assert _status(api.get("listCapabilities", expires=timedelta(minutes=10))) == 200
    with live_server.state.database.session() as db:
        settings.put(db, "api.signature.max.ahead.minutes", "120")
    assert _status(api.get("listCapabilities", expires=timedelta(minutes=60))) == 200
    with live_server.state.database.session() as db:
        settings.put(db, "api.signature.max.ahead.minutes", "0")  # an operator may still lift the limit
    assert _status(api.get("listCapabilities", expires=timedelta(hours=5))) == 200


def test_a_tampered_parameter_fails_the_signature(api: ApiCaller) -> None:
    params = api.signed_params("listZones", name="a")
    params["name"] = "b"
    assert api.http.get(api.endpoint, params=params).status_code == 401


def test_a_wrong_secret_is_401(api: ApiCaller) -> None:
    wrong = ApiCaller(api.endpoint, api.key, api.secret[:-2] + "xx")
    response = wrong.get("listCapabilities", response="json")
    assert response.status_code == 401
    body = response.json()["listcapabilitiesresponse"]
    assert body["errorcode"] == 401 and body["errortext"]


def test_an_unknown_api_key_is_401(api: ApiCaller) -> None:
    stranger = ApiCaller(api.endpoint, "no-such-key", api.secret)
    assert _status(stranger.get("listCapabilities")) == 401


def test_no_credentials_at_all_is_401(api: ApiCaller) -> None:
    response = api.http.get(api.endpoint, params={"command": "listZones", "response": "json"})
    assert response.status_code == 401
    assert response.json()["listzonesresponse"]["errorcode"] == 401


@pytest.mark.parametrize("signer", [java_style_signature, libcloud_style_signature])
def test_map_parameters_verify_with_either_bracket_encoding(api: ApiCaller, signer: Any) -> None:
    params = {"tags[0].key": "team", "tags[0].value": "blue"}
    response = api.get("listZones", signer=signer, **params)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("signer", [java_style_signature, libcloud_style_signature])
def test_values_with_spaces_and_reserved_characters_verify(api: ApiCaller, signer: Any) -> None:
    response = api.get("listZones", signer=signer, keyword="a b*c~d/e+f=g&h")
    assert response.status_code == 200, response.text
    assert api.get("listZones", signer=signer, keyword="Zöne Ärger 区域").status_code == 200


def test_signature_verifies_for_a_form_post(api: ApiCaller) -> None:
    assert api.post("listZones", keyword="x y").status_code == 200


def test_cs_client_signs_v3_by_default(live_server: Any) -> None:
    client = live_server.cs()
    assert client.listCapabilities()["capability"]["dynamicrolesenabled"] is True


def test_cs_client_with_post_method(live_server: Any) -> None:
    client = live_server.cs(method="post")
    assert "capability" in client.listCapabilities()


def test_cs_client_past_expires_is_refused(live_server: Any) -> None:
    client = live_server.cs()
    with pytest.raises(cs.CloudStackApiException) as refused:
        client.listCapabilities(signatureVersion="3", expires="2001-01-01T00:00:00+0000")
    assert refused.value.response.status_code == 401
    assert refused.value.error["errorcode"] == 401


def cloudmonkey_style_signature(params: dict[str, str], secret: str) -> str:
    """What CloudMonkey (Go) signs: keys sorted as given, values through url.QueryEscape (`*` encoded, space `+`),
    lower-cased, then `+` turned into `%20`."""
    text = "&".join(f"{k}={quote_plus(v, safe='')}" for k, v in sorted(params.items()))
    text = text.lower().replace("+", "%20")
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


@pytest.mark.parametrize("keyword", ["*web*", "a b", "x~y_z.w-v", "50%+1"])
def test_cloudmonkey_signatures_verify(api: ApiCaller, keyword: str) -> None:
    response = api.get("listZones", version=1, signer=cloudmonkey_style_signature, keyword=keyword)
    assert response.status_code == 200, response.text


def test_a_signature_with_an_unencoded_plus_still_verifies(api: ApiCaller) -> None:
    """Some clients put the base64 signature in the query string raw, so its `+` arrives as a space."""
    for attempt in range(50):
        params = api.signed_params("listZones", keyword=f"k{attempt}")
        if "+" in params["signature"]:
            break
    else:
        pytest.fail("no signature with a + in 50 tries")
    query = "&".join(f"{k}={quote(v, safe='*') if k != 'signature' else v}" for k, v in params.items())
    response = api.http.get(f"{api.endpoint}?{query}")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("stamp_format", ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.000%z", "%Y-%m-%dT%H:%M:%S%z"])
def test_v3_expires_in_the_formats_clients_write(api: ApiCaller, stamp_format: str) -> None:
    """cs and Java write +0000, the Go SDK (CloudMonkey, Terraform) a literal Z, some clients milliseconds."""
    from datetime import UTC, datetime

    for delta, expected in ((timedelta(minutes=5), 200), (timedelta(minutes=-5), 401)):
        params = {"command": "listZones", "apiKey": api.key, "signatureversion": "3",
                  "expires": (datetime.now(UTC) + delta).strftime(stamp_format)}
        params["signature"] = cloudmonkey_style_signature(params, api.secret)
        assert api.http.get(api.endpoint, params=params).status_code == expected, params["expires"]
