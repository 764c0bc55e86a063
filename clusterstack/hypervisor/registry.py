"""Which driver serves a failover cluster's address."""

from __future__ import annotations

from urllib.parse import urlsplit

from clusterstack.hypervisor.base import DriverError, FailoverClusterDriver


def open_driver(address: str) -> FailoverClusterDriver:
    """`http://host:port` (or `sim://host:port`): a simulated cluster; `winrm://` is the real-cluster driver."""
    scheme = urlsplit(address).scheme.lower()
    if scheme in ("http", "https", "sim"):
        from clusterstack.hypervisor.simulator import SimulatorDriver

        return SimulatorDriver(address.replace("sim://", "http://", 1))
    if scheme == "winrm":
        raise DriverError("the WinRM driver for real Hyper-V failover clusters is not part of this release; "
                          "use a simulated cluster (http://host:port of `clusterstack sim serve`)")
    raise DriverError(f"unsupported failover cluster address '{address}': use http://host:port")
