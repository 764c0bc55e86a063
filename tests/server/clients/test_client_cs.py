"""The real `cs` package against a live server: create, list and page inventory, and be refused properly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import cs
import pytest
from inventory_seed import create_offering, create_pod, create_zone


def test_create_zone_pod_offering_and_list_them(cloud: Any) -> None:
    client = cloud.cs()
    zone = create_zone(client)
    pod = create_pod(client, zone["id"])
    offering = create_offering(client)
    assert pod["zoneid"] == zone["id"]
    zones = client.listZones()
    assert zones["count"] == 1 and zones["zone"][0]["id"] == zone["id"]
    assert [p["id"] for p in client.listPods(zoneid=zone["id"])["pod"]] == [pod["id"]]
    listed = client.listServiceOfferings(id=offering["id"])["serviceoffering"]
    assert listed[0]["name"] == "Medium HA" and listed[0]["offerha"] is True
    assert listed[0]["cpunumber"] == 2 and listed[0]["memory"] == 2048


def test_page_through_lists(cloud: Any) -> None:
    client = cloud.cs()
    zone = create_zone(client)
    for i in range(7):
        create_pod(client, zone["id"], name=f"pod{i}")
    pages = [client.listPods(page=page, pagesize=3) for page in (1, 2, 3)]
    assert [p["count"] for p in pages] == [7, 7, 7]
    assert [len(p["pod"]) for p in pages] == [3, 3, 1]
    names = [pod["name"] for page in pages for pod in page["pod"]]
    assert sorted(names) == [f"pod{i}" for i in range(7)]
    assert client.listPods(page=4, pagesize=3) == {"count": 7}  # past the end: the count, no entity
    everything = client.listPods(fetch_list=True)
    assert sorted(p["name"] for p in everything) == sorted(names)


def test_fetch_list_pages_through_offerings(cloud: Any) -> None:
    client = cloud.cs()
    for i in range(5):
        create_offering(client, name=f"offering-{i}")
    listed = client.listServiceOfferings(fetch_list=True)
    # besides the offerings a new installation has (CloudStack's, made by db upgrade on a new database)
    names = sorted(o["name"] for o in listed if o["name"] not in ("Small Instance", "Medium Instance"))
    assert names == [f"offering-{i}" for i in range(5)]


def test_missing_parameter_is_431_naming_it(cloud: Any) -> None:
    client = cloud.cs()
    zone = create_zone(client)
    with pytest.raises(cs.CloudStackApiException) as refused:
        client.createPod(zoneid=zone["id"], name="p", netmask="255.255.255.0", startip="10.1.0.10")
    assert refused.value.response.status_code == 431
    assert refused.value.error["errorcode"] == 431 and refused.value.error["cserrorcode"] == 4350
    assert "gateway" in refused.value.error["errortext"]
    assert client.listPods() == {}


def test_bad_signature_is_401(cloud: Any) -> None:
    key, secret = cloud.admin_keys()
    client = cloud.cs(key, secret[::-1])
    with pytest.raises(cs.CloudStackApiException) as refused:
        client.listZones()
    assert refused.value.response.status_code == 401
    assert refused.value.error["errorcode"] == 401


def test_past_expires_is_refused(cloud: Any) -> None:
    client = cloud.cs(expiration=timedelta(seconds=0))
    with pytest.raises(cs.CloudStackApiException) as refused:
        client.listZones(expires="2020-01-01T00:00:00+0000", signatureVersion="3")
    assert refused.value.response.status_code == 401


def test_cs_post_and_v1_signing(cloud: Any) -> None:
    key, secret = cloud.admin_keys()
    client = cloud.cs(key, secret, method="post", expiration=-1)  # negative expiration: v1, no expires
    zone = create_zone(client, name="posted zone")
    assert client.listZones(name="posted zone")["zone"][0]["id"] == zone["id"]


def test_cs_command_line_tool(cloud: Any, tmp_path: Any) -> None:
    """`cs listZones name=...` as an operator types it, configured through the environment."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    zone = create_zone(cloud.cs(), name="cli zone")
    key, secret = cloud.admin_keys()
    env = {**os.environ, "CLOUDSTACK_ENDPOINT": cloud.endpoint, "CLOUDSTACK_KEY": key,
           "CLOUDSTACK_SECRET": secret, "HOME": str(tmp_path)}
    cs_tool = Path(sys.executable).parent / "cs"
    done = subprocess.run([str(cs_tool), "listZones", "name=cli zone"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["zone"][0]["id"] == zone["id"]
    refused = subprocess.run([str(cs_tool), "createPod", f"zoneid={zone['id']}", "name=p"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "431" in refused.stdout + refused.stderr
