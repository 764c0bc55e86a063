"""One driver per failover cluster, opened from the cluster's address, account and options, and kept while
they stay the same (new credentials or a new host's address open a new one)."""

from __future__ import annotations

import threading

from clusterstack.hypervisor.base import Credentials, DriverOptions, FailoverClusterDriver
from clusterstack.hypervisor.registry import open_driver


class ClusterLinks:
    def __init__(self) -> None:
        self._drivers: dict[str, tuple[FailoverClusterDriver, Credentials | None, DriverOptions | None]] = {}
        self._lock = threading.Lock()

    def driver(self, address: str, credentials: Credentials | None = None,
               options: DriverOptions | None = None) -> FailoverClusterDriver:
        stale: FailoverClusterDriver | None = None
        with self._lock:
            found = self._drivers.get(address)
            if found is not None and (found[1], found[2]) != (credentials, options):
                stale, found = found[0], None
            if found is None:
                found = (open_driver(address, credentials, options), credentials, options)
                self._drivers[address] = found
        if stale is not None:
            stale.close()
        return found[0]

    def forget(self, address: str) -> None:
        with self._lock:
            entry = self._drivers.pop(address, None)
        if entry is not None:
            entry[0].close()

    def close(self) -> None:
        with self._lock:
            entries, self._drivers = list(self._drivers.values()), {}
        for entry in entries:
            entry[0].close()
