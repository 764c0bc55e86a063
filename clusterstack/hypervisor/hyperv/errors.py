"""A PowerShell error record as the typed driver error an operator reads (with the cmdlet's own message)."""

from __future__ import annotations

from typing import Any

from clusterstack.hypervisor.base import (
    AccessDenied,
    AlreadyExists,
    DriverError,
    InvalidState,
    NotEnoughMemory,
    NotFound,
    OperationTimeout,
    QuorumLost,
)
from clusterstack.hypervisor.hyperv.objects import prop, text

# System.Management.Automation.ErrorCategory
INVALID_ARGUMENT = 5
INVALID_OPERATION = 7
OBJECT_NOT_FOUND = 13
OPERATION_TIMEOUT = 15
PERMISSION_DENIED = 18
RESOURCE_BUSY = 19
RESOURCE_EXISTS = 20
RESOURCE_UNAVAILABLE = 21
CONNECTION_ERROR = 27

CLUSTER_SERVICE_NOT_RUNNING = "cluster service is not running"


def record_message(record: Any) -> str:
    """The error's text as PowerShell prints it: the exception's message, else the record's ToString."""
    exception = getattr(record, "exception", None)
    message = text(prop(exception, "Message")) if exception is not None else ""
    return message or str(record) or getattr(record, "message", "") or "the cmdlet failed"


def is_missing_node(record: Any) -> bool:
    """A -ComputerName target that does not answer (a down node), as Hyper-V's cmdlets report it."""
    return getattr(record, "category", None) == CONNECTION_ERROR


def driver_error(record: Any, command: str, where: str) -> DriverError:
    """The DriverError for an error record of `command` run at `where`."""
    category = getattr(record, "category", None)
    fqid = getattr(record, "fq_error", "") or ""
    message = record_message(record)
    text_ = f"{command} on {where}: {message}"
    lowered = message.lower()
    if CLUSTER_SERVICE_NOT_RUNNING in lowered:
        return QuorumLost(text_)
    if category == OBJECT_NOT_FOUND or fqid.startswith("CommandNotFoundException"):
        return NotFound(text_)
    if category == RESOURCE_EXISTS or "already clustered" in lowered or "file exists" in lowered:
        return AlreadyExists(text_)
    if "insufficient memory" in lowered or "not enough memory" in lowered:
        return NotEnoughMemory(text_)
    if category == PERMISSION_DENIED or "access is denied" in lowered:
        return AccessDenied(text_)
    if category == OPERATION_TIMEOUT:
        return OperationTimeout(text_)
    if category in (INVALID_OPERATION, INVALID_ARGUMENT, RESOURCE_BUSY, RESOURCE_UNAVAILABLE):
        return InvalidState(text_)
    return DriverError(text_)
