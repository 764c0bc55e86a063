"""/metrics in Prometheus text format: API requests and latency by command and status, jobs, database pool."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from wire_client import ApiCaller


def _samples(base_url: str) -> dict[str, list[Any]]:
    response = httpx.get(f"{base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(response.text):
        families.setdefault(family.name, []).extend(family.samples)
    return families


def _count(samples: list[Any], **labels: str) -> float:
    return sum(s.value for s in samples
               if s.name.endswith("_total") and all(s.labels.get(k) == v for k, v in labels.items()))


def test_request_counters_by_command_and_status(api_on: ApiCaller) -> None:
    base = api_on.server.base_url  # type: ignore[attr-defined]
    before = _samples(base)["clusterstack_api_requests"]
    for _ in range(3):
        assert api_on.get("listCapabilities").status_code == 200
    assert api_on.get("noSuchCommand").status_code == 432
    assert api_on.get("getCloudIdentifier").status_code == 431
    after = _samples(base)["clusterstack_api_requests"]
    assert _count(after, command="listcapabilities", status="200") - \
        _count(before, command="listcapabilities", status="200") == 3
    assert _count(after, command="unknown", status="432") - _count(before, command="unknown", status="432") == 1
    assert _count(after, command="getcloudidentifier", status="431") - \
        _count(before, command="getcloudidentifier", status="431") == 1


def test_latency_histogram_and_database_pool(api_on: ApiCaller) -> None:
    assert api_on.get("listZones").status_code == 200
    families = _samples(api_on.server.base_url)  # type: ignore[attr-defined]
    latency = families["clusterstack_api_request_seconds"]
    counts = [s for s in latency if s.name.endswith("_count") and s.labels.get("command") == "listzones"]
    assert counts and counts[0].value >= 1
    buckets = [s for s in latency if s.name.endswith("_bucket") and s.labels.get("command") == "listzones"]
    assert any(s.labels["le"] == "+Inf" for s in buckets)
    assert "clusterstack_db_pool_connections_in_use" in families
    assert "clusterstack_db_pool_size" in families


def test_async_jobs_gauge_is_exported(api: ApiCaller, live_server: Any) -> None:
    families = _samples(live_server.base_url)
    assert "clusterstack_async_jobs" in families
