"""The seam between the PowerShell Remoting transport and the simulated cmdlets.

The transport (listener.py, wsman.py, psrp_session.py) receives a PSRP CreatePipeline message, turns each
statement of its PowerShell pipeline into `CommandInvocation`s and awaits `PowerShellHost.run`. It then
writes every output object to the pipeline's output stream (serialized as PowerShell remoting does: depth 1,
so a complex property value travels as its ToString()), every `ErrorRecordInfo` of `errors` to the error
stream (non-terminating errors), and completes the pipeline; a `CmdletFailure` raised from `run` is a
terminating error: it is written to the error stream and the pipeline ends Failed, as PowerShell ends one.

Hosts run on the simulator's asyncio loop (the one that owns the SimulatedCluster), so cmdlets touch the
engine without a lock and may await (Start-ClusterGroup without -Wait 0 waits for the group to be online).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CommandInvocation:
    """One command of a pipeline as the client sent it."""

    name: str  # e.g. "Get-ClusterGroup"; matched case-insensitively, as PowerShell does
    parameters: dict[str, Any] = field(default_factory=dict)  # named parameters; a switch is True
    arguments: tuple[Any, ...] = ()  # positional arguments (values the client sent without a name)


@dataclass(frozen=True)
class ErrorRecordInfo:
    """What an ErrorRecord carries: the cmdlet's message and PowerShell's classification of it."""

    message: str
    category: int  # psrpcore.types.ErrorCategory value, e.g. ObjectNotFound = 13
    # e.g. "Get-ClusterGroup,Microsoft.FailoverClusters.PowerShell.GetClusterGroupCommand"
    fully_qualified_error_id: str
    exception_type: str = "System.Management.Automation.RuntimeException"  # .NET type name of the exception
    target: str | None = None  # the target object's string form (the group name, the node name, ...)
    activity: str | None = None  # the command that failed (defaults to the cmdlet's name)


class CmdletFailure(Exception):
    """A terminating error: the pipeline stops and its state is Failed."""

    def __init__(self, record: ErrorRecordInfo) -> None:
        super().__init__(record.message)
        self.record = record


@dataclass
class PipelineResult:
    output: list[Any] = field(default_factory=list)  # psrpcore.types objects or Python primitives
    errors: list[ErrorRecordInfo] = field(default_factory=list)  # non-terminating errors, in order


class PowerShellHost(Protocol):
    """A PowerShell session on one node (or on the cluster's network name)."""

    async def run(self, statements: Sequence[Sequence[CommandInvocation]]) -> PipelineResult:
        """Run statements one after another; each statement is a pipeline whose commands pass objects along."""
        ...


class PowerShellHostFactory(Protocol):
    def __call__(self, endpoint: str, username: str) -> PowerShellHost:
        """A session opened on `endpoint` (a node's name, or the cluster's name for the cluster name object) by
        the authenticated `username` (DOMAIN\\user)."""
        ...
