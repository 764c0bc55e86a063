"""Timing and behaviour that differ between Windows Server versions (cluster common properties)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    same_subnet_delay: float  # seconds between heartbeats (SameSubnetDelay)
    same_subnet_threshold: int  # heartbeats missed before a node is removed (SameSubnetThreshold)
    cross_subnet_delay: float
    cross_subnet_threshold: int
    resiliency_period: float | None  # VM compute resiliency (ResiliencyDefaultPeriod); None: no resiliency
    quarantine_threshold: int | None  # failures in an hour before quarantine (QuarantineThreshold)
    quarantine_duration: float  # QuarantineDuration, seconds
    failed_retry: float = 3600.0  # a failed role is retried after this (restart delay of the group)
    join_seconds: float = 2.0  # a starting node is Joining this long
    start_seconds: float = 1.0  # one VM start
    max_starts_in_flight: int = 32  # VM starts in flight per node

    def detect_seconds(self, cross_subnet: bool) -> float:
        if cross_subnet:
            return self.cross_subnet_delay * self.cross_subnet_threshold
        return self.same_subnet_delay * self.same_subnet_threshold


PROFILES: dict[str, Profile] = {
    "2012R2": Profile("2012R2", 1.0, 5, 1.0, 5, None, None, 0.0),
    "2016": Profile("2016", 1.0, 10, 1.0, 20, 240.0, 3, 7200.0),
}
