"""One driver per failover cluster, opened from the cluster's address and kept while it is in use."""

from __future__ import annotations

import threading

from clusterstack.hypervisor.base import FailoverClusterDriver
from clusterstack.hypervisor.registry import open_driver


class ClusterLinks:
    def __init__(self) -> None:
        self._drivers: dict[str, FailoverClusterDriver] = {}
        self._lock = threading.Lock()

    def driver(self, address: str) -> FailoverClusterDriver:
        with self._lock:
            found = self._drivers.get(address)
            if found is None:
                found = open_driver(address)
                self._drivers[address] = found
            return found

    def forget(self, address: str) -> None:
        with self._lock:
            driver = self._drivers.pop(address, None)
        if driver is not None:
            driver.close()

    def close(self) -> None:
        with self._lock:
            drivers, self._drivers = list(self._drivers.values()), {}
        for driver in drivers:
            driver.close()
