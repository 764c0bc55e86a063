"""Hyper-V primary storage URLs, and the seam through which the failover cluster vouches for a CSV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clusterstack.server.api.commands.storage_pools import (
    VolumeFacts,
    register_presetup_check,
    unregister_presetup_check,
)
from clusterstack.server.api.errors import ApiError, param_error
from clusterstack.server.api.storage_url import parse_storage_url

from .conftest import GIB, Cloud, refused


@pytest.mark.parametrize("url", [
    "PreSetup://CI1/C:\\ClusterStorage\\Volume1",
    "presetup://CI1/C:/ClusterStorage/Volume1/",
    "PRESETUP://CI1/c:\\ClusterStorage\\\\Volume1\\",
    "PreSetup://CI1/C%3A%5CClusterStorage%5CVolume1",
])
def test_presetup_paths_are_normalised(url: str) -> None:
    parsed = parse_storage_url(url)
    assert (parsed.pool_type, parsed.host, parsed.path) == ("PreSetup", "CI1", "C:\\ClusterStorage\\Volume1")
    assert parsed.display == "PreSetup://CI1/C:\\ClusterStorage\\Volume1"


def test_smb_url_takes_credentials_from_the_query_and_hides_them() -> None:
    parsed = parse_storage_url("cifs://10.0.0.5/share/vms?user=svc&password=p%40ss&domain=BLR")
    assert (parsed.pool_type, parsed.host, parsed.path) == ("SMB", "10.0.0.5", "/share/vms")
    assert parsed.credentials == {"user": "svc", "password": "p@ss", "domain": "BLR"}
    assert parsed.display == "cifs://10.0.0.5/share/vms"
    assert parse_storage_url("smb://srv\\share").path == "/share"


@pytest.mark.parametrize(("url", "says"), [
    ("nfs://10.0.0.1/export", "unsupported protocol nfs"),
    ("PreSetup:///C:\\ClusterStorage\\Volume1", "names no host"),
    ("PreSetup://CI1", "names no path"),
    ("PreSetup://CI1/ClusterStorage/Volume1", "absolute Windows path"),
    ("cifs://srv/", "names no share"),
    ("C:\\ClusterStorage\\Volume1", "not a storage URL"),
])
def test_bad_urls_are_refused_with_a_reason(url: str, says: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_storage_url(url)
    assert info.value.errorcode == 431 and says in info.value.text


@pytest.fixture
def csv_check() -> Iterator[list[tuple[str, str]]]:
    """A stand-in for the Hyper-V layer's check: CI1 has one CSV, Volume1, of 100 GB with 8.8 GB in use."""
    asked: list[tuple[str, str]] = []

    def check(ctx: Any, cluster: Any, path: str) -> VolumeFacts | None:
        asked.append((cluster.name, path))
        if path != "C:\\ClusterStorage\\Volume1":
            raise param_error(f"{path} is not a Cluster Shared Volume of failover cluster {cluster.failover_name}")
        return VolumeFacts(capacity_bytes=100 * GIB, used_bytes=int(8.8 * GIB))

    register_presetup_check(check)
    yield asked
    unregister_presetup_check(check)


def test_presetup_pool_takes_its_figures_from_the_cluster_check(sqlite_cloud: Cloud, csv_check: Any) -> None:
    zone = sqlite_cloud.zone()
    pod = sqlite_cloud.pod(zone)
    cluster = sqlite_cloud.cluster(pod, "CI1")
    pool = sqlite_cloud.csv_pool(zone, pod, cluster, "PS1")
    assert (pool["disksizetotal"], pool["disksizeused"]) == (100 * GIB, int(8.8 * GIB))
    failure = refused(sqlite_cloud.cs.createStoragePool, name="PS2", zoneid=zone["id"], podid=pod["id"],
                      clusterid=cluster["id"], url="PreSetup://CI1/C:\\ClusterStorage\\Volume2")
    assert failure.errorcode == 431 and "not a Cluster Shared Volume of failover cluster CI1" in failure.text
    assert csv_check == [("CI1", "C:\\ClusterStorage\\Volume1"), ("CI1", "C:\\ClusterStorage\\Volume2")]
    assert sqlite_cloud.cs.listStoragePools()["count"] == 1
