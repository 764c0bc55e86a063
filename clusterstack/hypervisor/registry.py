"""Which driver serves a failover cluster's address.

- `https://host[:5986]`: a Windows failover cluster (or a simulated one's WinRM endpoints) over PowerShell
  remoting, TLS with certificate validation.
- `winrm://host[:5985]`: the same over plain HTTP (NTLM still encrypts every message); only when the operator
  asks for it.
- `http://host:port` (or `sim://host:port`): the simulator's JSON HTTP API (`clusterstack sim serve`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from clusterstack.hypervisor.base import Credentials, DriverError, DriverOptions, FailoverClusterDriver


def driver_kind(address: str) -> str:
    """"winrm" or "simulator" for an address, or DriverError naming what is accepted."""
    scheme = urlsplit(address).scheme.lower()
    if scheme in ("https", "winrm"):
        return "winrm"
    if scheme in ("http", "sim"):
        return "simulator"
    raise DriverError(f"unsupported failover cluster address '{address}': use https://host:5986 for a Windows "
                      "failover cluster (winrm://host:5985 for WinRM over HTTP), or http://host:port of a "
                      "simulated one")


def open_driver(address: str, credentials: Credentials | None = None,
                options: DriverOptions | None = None) -> FailoverClusterDriver:
    if driver_kind(address) == "winrm":
        from clusterstack.hypervisor.hyperv import HyperVDriver

        return HyperVDriver(address, credentials, options)
    from clusterstack.hypervisor.simulator import SimulatorDriver

    return SimulatorDriver(address.replace("sim://", "http://", 1), credentials, options)
