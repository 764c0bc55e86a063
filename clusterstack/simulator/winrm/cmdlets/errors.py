"""The error records the cmdlets answer with: PowerShell's own (command and parameter binding), the
FailoverClusters module's and Hyper-V's, with their exception types, categories and FQIDs."""

from __future__ import annotations

from psrpcore.types import ErrorCategory

from clusterstack.failover import ClusterError, InvalidState, NotEnoughMemory, NotFound, QuorumLost
from clusterstack.simulator.winrm.commands import CmdletFailure, ErrorRecordInfo

PARAMETER_BINDING = "System.Management.Automation.ParameterBindingException"
CLUSTER_EXCEPTION = "Microsoft.FailoverClusters.PowerShell.ClusterCmdletException"
VIRTUALIZATION = "Microsoft.HyperV.PowerShell.VirtualizationException"
VHD_EXCEPTION = "Microsoft.Vhd.PowerShell.VirtualizationException"

CLUSTER_NOT_RUNNING = ("The cluster service is not running.  Make sure that the service is running on all nodes "
                       "in the cluster.")


def record(message: str, category: ErrorCategory, fqid: str, exception: str, target: object = None,
           activity: str | None = None) -> ErrorRecordInfo:
    return ErrorRecordInfo(message=message, category=int(category), fully_qualified_error_id=fqid,
                           exception_type=exception, target=None if target is None else str(target),
                           activity=activity)


def command_not_found(name: str) -> CmdletFailure:
    return CmdletFailure(record(
        f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable "
        "program. Check the spelling of the name, or if a path was included, verify that the path is correct "
        "and try again.", ErrorCategory.ObjectNotFound, "CommandNotFoundException",
        "System.Management.Automation.CommandNotFoundException", target=name, activity=""))


def binding(message: str, fqid: str, cmdlet: str, command_class: str, target: object = None) -> CmdletFailure:
    return CmdletFailure(record(message, ErrorCategory.InvalidArgument, f"{fqid},{command_class}",
                                PARAMETER_BINDING, target=target, activity=cmdlet))


def cluster_not_running(cmdlet: str, command_class: str) -> CmdletFailure:
    return CmdletFailure(record(CLUSTER_NOT_RUNNING, ErrorCategory.ConnectionError,
                                f"ClusterServiceNotRunning,{command_class}", CLUSTER_EXCEPTION, activity=cmdlet))


def cluster_error(exc: ClusterError, cmdlet: str, command_class: str, target: object = None,
                  what: str = "") -> ErrorRecordInfo:
    """An engine refusal as the FailoverClusters cmdlet words it: the Win32 error the cluster API returns, then
    what the cluster says of this case."""
    detail = str(exc)
    if isinstance(exc, QuorumLost):
        return record(CLUSTER_NOT_RUNNING, ErrorCategory.ConnectionError,
                      f"ClusterServiceNotRunning,{command_class}", CLUSTER_EXCEPTION, target, cmdlet)
    prefix = f"An error occurred {what}.\n" if what else ""
    if isinstance(exc, NotEnoughMemory):
        return record(f"{prefix}There is insufficient memory to complete the operation: {detail}.",
                      ErrorCategory.ResourceUnavailable, f"{cmdlet},{command_class}", CLUSTER_EXCEPTION, target,
                      cmdlet)
    if isinstance(exc, NotFound):
        return record(f"{prefix}{detail}.", ErrorCategory.ObjectNotFound, f"{cmdlet},{command_class}",
                      CLUSTER_EXCEPTION, target, cmdlet)
    if isinstance(exc, InvalidState):
        lead = ("The cluster node is not in a state to perform the requested operation"
                if detail.startswith("node ") else
                "The group or resource is not in the correct state to perform the requested operation")
        return record(f"{prefix}{lead}: {detail}.", ErrorCategory.InvalidOperation, f"{cmdlet},{command_class}",
                      CLUSTER_EXCEPTION, target, cmdlet)
    return record(f"{prefix}The parameter is incorrect: {detail}.", ErrorCategory.InvalidArgument,
                  f"{cmdlet},{command_class}", CLUSTER_EXCEPTION, target, cmdlet)


def hyperv_error(message: str, category: ErrorCategory, reason: str, command_class: str, target: object = None,
                 cmdlet: str | None = None, exception: str = VIRTUALIZATION) -> ErrorRecordInfo:
    """A Hyper-V cmdlet's error: FQID `<reason>,Microsoft.HyperV.PowerShell.Commands.<Verb><Noun>`."""
    return record(message, category, f"{reason},{command_class}", exception, target, cmdlet)
