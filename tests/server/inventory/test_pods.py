"""Pods over HTTP with the real `cs` client, on SQLite and PostgreSQL."""

from __future__ import annotations

from .conftest import POD_ARGS, Cloud, refused


def test_pod_lifecycle_writes_events(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone, "P1")
    assert (pod["zoneid"], pod["zonename"]) == (zone["id"], "HVCluster")
    assert (pod["gateway"], pod["netmask"]) == ("10.1.0.1", "255.255.255.0")
    assert (pod["startip"], pod["endip"]) == (["10.1.0.10"], ["10.1.0.200"])
    assert pod["allocationstate"] == "Enabled"

    updated = cloud.cs.updatePod(id=pod["id"], name="P1-renamed", endip="10.1.0.150", allocationstate="Disabled")
    assert updated["pod"]["name"] == "P1-renamed"
    assert updated["pod"]["startip"] == ["10.1.0.10"] and updated["pod"]["endip"] == ["10.1.0.150"]
    assert cloud.cs.listPods(allocationstate="Disabled")["pod"][0]["id"] == pod["id"]

    assert cloud.cs.deletePod(id=pod["id"])["success"] is True
    assert cloud.cs.listPods(zoneid=zone["id"]) == {}
    types = sorted(e["type"] for e in cloud.events(resourcetype="Pod", resourceid=pod["id"]))
    assert types == ["POD.CREATE", "POD.DELETE", "POD.EDIT"]


def test_paging_through_thirty_pods(cloud: Cloud) -> None:
    zone = cloud.zone()
    created = [cloud.pod(zone, f"pod-{i:02d}")["id"] for i in range(30)]
    seen: list[str] = []
    for page in range(1, 6):
        answer = cloud.cs.listPods(zoneid=zone["id"], page=page, pagesize=7)
        assert answer["count"] == 30
        assert len(answer["pod"]) == (7 if page < 5 else 2)
        seen.extend(p["id"] for p in answer["pod"])
    assert seen == created
    assert cloud.cs.listPods(zoneid=zone["id"], page=6, pagesize=7).get("pod", []) == []
    assert len(cloud.cs.listPods(keyword="pod-1")["pod"]) == 10  # pod-10 .. pod-19


def test_pod_bad_input_is_refused_and_changes_nothing(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone, "P1")
    before = cloud.cs.listPods()
    events_before = len(cloud.events())

    for missing in ("gateway", "netmask", "startip"):
        args = {k: v for k, v in POD_ARGS.items() if k != missing}
        failure = refused(cloud.cs.createPod, name="P2", zoneid=zone["id"], **args)
        assert failure.errorcode == 431 and f"missing parameter {missing}" in failure.text

    outside = refused(cloud.cs.createPod, name="P2", zoneid=zone["id"], **{**POD_ARGS, "endip": "10.2.0.5"})
    assert outside.errorcode == 431 and "not in the CIDR subnet" in outside.text
    reversed_range = refused(cloud.cs.createPod, name="P2", zoneid=zone["id"],
                             **{**POD_ARGS, "startip": "10.1.0.100", "endip": "10.1.0.20"})
    assert reversed_range.errorcode == 431
    gateway_inside = refused(cloud.cs.createPod, name="P2", zoneid=zone["id"],
                             **{**POD_ARGS, "gateway": "10.1.0.50"})
    assert gateway_inside.errorcode == 431 and "gateway" in gateway_inside.text
    bad_mask = refused(cloud.cs.createPod, name="P2", zoneid=zone["id"], **{**POD_ARGS, "netmask": "255.0.255.0"})
    assert bad_mask.errorcode == 431 and "netmask" in bad_mask.text
    duplicate = refused(cloud.cs.createPod, name="p1", zoneid=zone["id"], **POD_ARGS)
    assert duplicate.errorcode == 431 and "already exists" in duplicate.text
    bad_zone = refused(cloud.cs.createPod, name="P2", zoneid="1234", **POD_ARGS)
    assert bad_zone.errorcode == 431 and "zoneid" in bad_zone.text
    bad_state = refused(cloud.cs.updatePod, id=pod["id"], allocationstate="Off")
    assert bad_state.errorcode == 431 and "allocationstate" in bad_state.text
    bad_update = refused(cloud.cs.updatePod, id=pod["id"], name="P9", startip="192.168.0.1")
    assert bad_update.errorcode == 431

    assert cloud.cs.listPods() == before
    assert len(cloud.events()) == events_before


def test_pod_with_a_cluster_cannot_be_deleted(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    cloud.cluster(pod, "CI1")
    failure = refused(cloud.cs.deletePod, id=pod["id"])
    assert (failure.errorcode, failure.cserrorcode) == (536, 4375)
    assert "1 cluster (CI1)" in failure.text
    assert cloud.cs.listPods(id=pod["id"])["count"] == 1


def test_users_may_not_call_pod_commands(sqlite_cloud: Cloud) -> None:
    zone = sqlite_cloud.zone()
    user = sqlite_cloud.user_client()
    assert refused(user.createPod, name="P1", zoneid=zone["id"], **POD_ARGS).errorcode == 432
    assert refused(user.listPods).errorcode == 432
    assert sqlite_cloud.cs.listPods() == {}
