"""A CloudStack client pointed at the server's root instead of /client/api (issue 15): an API error saying where the
API is, in the format asked for, instead of the console's HTML; the console itself is unaffected."""

from __future__ import annotations

from typing import Any

import cs
import httpx
import pytest


@pytest.mark.parametrize("path", ["", "/", "/client", "/client/"])
def test_cs_at_the_root_is_told_where_the_api_is(live_server: Any, path: str) -> None:
    key, secret = live_server.admin_keys()
    client = cs.CloudStack(endpoint=live_server.base_url + path, key=key, secret=secret)
    with pytest.raises(cs.CloudStackApiException) as info:
        client.listZones()
    error = info.value.error
    assert info.value.response.status_code == 404 and error["errorcode"] == 404
    assert f"send API requests to {live_server.base_url}/client/api" in error["errortext"]


def test_xml_clients_get_xml_and_the_console_still_answers(live_server: Any) -> None:
    answer = httpx.get(live_server.base_url + "/", params={"command": "listZones", "apikey": "x"})
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/xml")
    assert "<errorcode>404</errorcode>" in answer.text and "/client/api" in answer.text
    console = httpx.get(live_server.base_url + "/client/", params={"next": "/client/instances"})
    assert console.status_code == 200 and console.headers["content-type"].startswith("text/html")
    assert httpx.get(live_server.base_url + "/", follow_redirects=False).status_code in (302, 307)
