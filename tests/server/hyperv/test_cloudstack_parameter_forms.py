"""Parameters CloudStack does not require are not required here either (issue 11): a form clusterstack can honour
works (detachVolume by instance and device, registerTemplate with zoneids, login by numeric domain id), and one
it cannot is refused with 431 saying why, changing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException
from sqlalchemy import select

from clusterstack.server.db.models.identity import Domain

from .test_instances import _deploy, _roles, seed  # noqa: F401 - the fixture


def _refused(call: Any, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as info:
        call(**params)
    assert info.value.error["errorcode"] == 431
    return str(info.value.error["errortext"])


def test_detach_by_instance_and_device(seed: dict[str, Any]) -> None:  # noqa: F811
    client = seed["cs"]
    vm = _deploy(seed, "detachme", "HA Offering", "HYPERVCLLOUD13")
    offering = client.createDiskOffering(name="Five", displaytext="Five", disksize=5)["diskoffering"]
    volume = client.createVolume(name="data9", zoneid=seed["zone"], diskofferingid=offering["id"],
                                 virtualmachineid=vm["id"])["volume"]
    assert "tuple(device id, instance id)" in _refused(client.detachVolume, virtualmachineid=vm["id"])
    detached = client.detachVolume(virtualmachineid=vm["id"], deviceid=volume["deviceid"])["volume"]
    assert detached["id"] == volume["id"] and "virtualmachineid" not in detached
    assert not any(v["path"].endswith(f"{volume['name']}-{volume['id']}.vhdx")
                   for v in _roles(seed)[vm["instancename"]]["vhds"])


def test_what_cannot_be_honoured_is_refused_by_name(seed: dict[str, Any]) -> None:  # noqa: F811
    client = seed["cs"]
    before = len(client.listServiceOfferings()["serviceoffering"])
    assert "custom" in _refused(client.createServiceOffering, name="Custom", displaytext="Custom")
    assert len(client.listServiceOfferings()["serviceoffering"]) == before
    assert "templateid" in _refused(client.deployVirtualMachine, zoneid=seed["zone"],
                                    serviceofferingid=seed["offerings"]["HA Offering"])
    assert "url" in _refused(client.addCluster, clustername="CI9", clustertype="CloudManaged", hypervisor="Hyperv",
                             zoneid=seed["zone"], podid=seed["pod"])
    assert "gateway" in _refused(client.createPod, name="P9", zoneid=seed["zone"])
    assert "one zone" in _refused(client.registerTemplate, name="T2", displaytext="T2", format="VHD",
                                  hypervisor="Hyperv", url="http://templates.example/t2.vhd",
                                  zoneids=f"{seed['zone']},{seed['zone']}")
    assert len(client.listClusters()["cluster"]) == 1 and len(client.listPods()["pod"]) == 1


def test_register_with_zoneids_and_login_by_numeric_domain_id(seed: dict[str, Any]) -> None:  # noqa: F811
    client = seed["cs"]
    template = client.registerTemplate(name="T1", displaytext="T1", format="VHD", hypervisor="Hyperv",
                                       url="http://templates.example/t1.vhd", zoneids=seed["zone"])["template"][0]
    assert template["zoneid"] == seed["zone"]
    with seed["server"].state.database.session() as db:
        root_id = db.scalar(select(Domain.id).where(Domain.path == "/"))
    import httpx

    answer = httpx.post(seed["server"].endpoint, data={"command": "login", "username": "admin",
                                                      "password": "password", "domainId": str(root_id),
                                                      "response": "json"})
    assert answer.status_code == 200 and "sessionkey" in answer.json()["loginresponse"]
