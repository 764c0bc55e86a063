"""Creating the inventory the client tests list: a zone, a pod and a service offering, through the API."""

from __future__ import annotations

from typing import Any


def create_zone(client: Any, name: str = "zone1") -> dict[str, Any]:
    return client.createZone(name=name, networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1")["zone"]


def create_pod(client: Any, zone_id: str, name: str = "pod1") -> dict[str, Any]:
    return client.createPod(zoneid=zone_id, name=name, gateway="10.1.0.1", netmask="255.255.255.0",
                            startip="10.1.0.10", endip="10.1.0.200")["pod"]


def create_offering(client: Any, name: str = "Medium HA", **extra: Any) -> dict[str, Any]:
    return client.createServiceOffering(name=name, displaytext=f"{name} instance", cpunumber=2, cpuspeed=1000,
                                        memory=2048, offerha=True, **extra)["serviceoffering"]
