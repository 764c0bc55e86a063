"""A host's allocated CPU and memory follow its instances through deploy, stop, start and live migration."""

from __future__ import annotations

from typing import Any

from .test_instances import _deploy, seed  # noqa: F401 - the fixture

MB = 1024 * 1024


def _allocated(world: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {h["name"]: (h["cpuallocatedvalue"], h["memoryallocated"]) for h in world["cs"].listHosts()["host"]}


def test_allocation_follows_the_instances(seed: dict[str, Any]) -> None:  # noqa: F811
    client = seed["cs"]
    assert _allocated(seed) == {"HYPERVCLLOUD13": (0, 0), "HYPERVCLLOUD17": (0, 0)}
    first = _deploy(seed, "alloc1", "HA Offering", "HYPERVCLLOUD13")
    _deploy(seed, "alloc2", "Small Instance", "HYPERVCLLOUD13")
    assert _allocated(seed) == {"HYPERVCLLOUD13": (2 * 500, 2 * 512 * MB), "HYPERVCLLOUD17": (0, 0)}
    client.stopVirtualMachine(id=first["id"])
    assert _allocated(seed) == {"HYPERVCLLOUD13": (500, 512 * MB), "HYPERVCLLOUD17": (0, 0)}
    client.startVirtualMachine(id=first["id"])
    client.migrateVirtualMachine(virtualmachineid=first["id"], hostid=seed["hosts"]["HYPERVCLLOUD17"])
    assert _allocated(seed) == {"HYPERVCLLOUD13": (500, 512 * MB), "HYPERVCLLOUD17": (500, 512 * MB)}
