"""What disk and service offerings say about their disks' I/O, as CloudStack's createDiskOffering and
createServiceOffering take it (ConfigurationManagerImpl.createDiskOffering / createServiceOffering): cache mode,
the bytes and IOPS read/write rate limits with their burst (max) and burst length variants, the hypervisor
snapshot reserve, and encryption.

Every value is accepted and answered as CloudStack does, except what Hyper-V cannot apply, which is refused with
431 rather than stored and ignored: Hyper-V's Storage QoS limits a virtual disk's total normalized IOPS (minimum
and maximum, `miniops`/`maxiops`), never reads and writes apart, never bytes, and has no bursts; and a VHD on a
Cluster Shared Volume is not cached by the host, so `writeback` and `writethrough` cannot be had (`none` and
`hypervisor_default` are what it does).
"""

from __future__ import annotations

from typing import Any

from clusterstack.server.api.errors import param_error
from clusterstack.server.api.registry import Param
from clusterstack.server.db.models.catalog import CACHE_MODES, IO_LIMITS

CACHE_MODES_HYPERV_HAS = ("none", "hypervisor_default")
# bytesreadrate -> diskBytesReadRate, ..., iopswriteratemaxlength -> diskIopsWriteRateMaxLength
_RESPONSE_KEYS = {f"{kind}{direction}rate{suffix}": f"disk{kind.capitalize()}{direction.capitalize()}Rate{label}"
                  for kind in ("bytes", "iops") for direction in ("read", "write")
                  for suffix, label in (("", ""), ("max", "Max"), ("maxlength", "MaxLength"))}

IO_RESPONSE_FIELDS: tuple[tuple[str, str, str], ...] = tuple(
    (key, "long", f"{key[4:]} of the disk (bytes or IOPS per second; Max: a burst; MaxLength: its seconds)")
    for key in _RESPONSE_KEYS.values())

IO_PARAMS: tuple[Param, ...] = (
    *(Param(param, "long", minimum=0, description=f"{param} of the disk offering (refused: Hyper-V Storage QoS "
            "limits a disk's total IOPS only, with miniops and maxiops)") for param, _ in IO_LIMITS),
    Param("cachemode", description="the cache mode to use for this disk offering. none, writeback, writethrough "
          "or hypervisor_default (Hyper-V does none)", since="4.14"),
    Param("hypervisorsnapshotreserve", "integer", description="Hypervisor snapshot reserve space as a percent of a "
          "volume (for managed storage using Xen or VMware)", since="4.4"),
)


def check_io(p: dict[str, Any]) -> None:
    """Refuse, with CloudStack's messages for what CloudStack refuses and Hyper-V's reasons for the rest."""
    mode = p.get("cachemode")
    if mode is not None and mode.lower() not in CACHE_MODES:
        raise param_error(f"Invalid cache mode ({mode}). Please specify one of the following valid cache mode "
                          "parameters: none, writeback, writethrough or hypervisor_default.")
    if mode is not None and mode.lower() not in CACHE_MODES_HYPERV_HAS:
        raise param_error(f"Invalid parameter cachemode: {mode.lower()} cannot be applied on Hyper-V, which does not "
                          "cache a VHD on a Cluster Shared Volume in the host; use none or hypervisor_default")
    reserve = p.get("hypervisorsnapshotreserve")
    if reserve is not None and reserve < 0:
        raise param_error("If provided, Hypervisor Snapshot Reserve must be greater than or equal to 0.")
    given = [param for param, _ in IO_LIMITS if p.get(param)]
    if given:
        raise param_error(f"Invalid parameter {given[0]}: Hyper-V's Storage QoS limits a virtual disk's total "
                          "normalized IOPS (miniops and maxiops), not reads and writes apart, not bytes, and without "
                          "bursts; " + ", ".join(given) + " cannot be applied")


def io_columns(p: dict[str, Any]) -> dict[str, Any]:
    """The offering's columns from the parameters (after check_io)."""
    columns: dict[str, Any] = {column: p.get(param) or None for param, column in IO_LIMITS}
    columns["cache_mode"] = p["cachemode"].lower() if p.get("cachemode") else None
    columns["hv_ss_reserve"] = p.get("hypervisorsnapshotreserve")
    return columns


def render_io(offering: Any) -> dict[str, Any]:
    """CloudStack's response keys: diskBytesReadRate ... diskIopsWriteRateMaxLength, cacheMode,
    hypervisorsnapshotreserve."""
    rendered: dict[str, Any] = {_RESPONSE_KEYS[param]: getattr(offering, column) for param, column in IO_LIMITS}
    rendered["cacheMode"] = offering.cache_mode
    rendered["hypervisorsnapshotreserve"] = offering.hv_ss_reserve
    return rendered
