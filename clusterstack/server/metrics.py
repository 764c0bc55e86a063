"""Prometheus metrics of the management server (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

API_REQUESTS = Counter(
    "clusterstack_api_requests", "CloudStack API requests by command and HTTP status",
    ["command", "status"], registry=REGISTRY,
)
API_LATENCY = Histogram(
    "clusterstack_api_request_seconds", "CloudStack API request latency by command",
    ["command"], registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ASYNC_JOBS = Gauge(
    "clusterstack_async_jobs", "Async jobs in the database by state", ["state"], registry=REGISTRY,
)
DB_POOL_CHECKED_OUT = Gauge(
    "clusterstack_db_pool_connections_in_use", "Database connections checked out of the pool", registry=REGISTRY,
)
DB_POOL_SIZE = Gauge(
    "clusterstack_db_pool_size", "Database connection pool size", registry=REGISTRY,
)
