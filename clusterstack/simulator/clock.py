"""Simulated time: seconds since the simulation started, running `speed` times faster than the wall clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SimClock:
    def __init__(self, speed: float = 1.0, start: float = 0.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.monotonic()
        self._start = start
        self.epoch = datetime.now(UTC) - timedelta(seconds=start)

    def now(self) -> float:
        """Simulated seconds."""
        return self._start + (time.monotonic() - self._origin) * self.speed

    def wall_seconds_until(self, sim_time: float) -> float:
        return max(0.0, (sim_time - self.now()) / self.speed)

    def timestamp(self, sim_time: float) -> datetime:
        """The wall-clock moment a simulated time stands for (for event logs)."""
        return self.epoch + timedelta(seconds=sim_time)
