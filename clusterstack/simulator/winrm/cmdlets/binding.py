"""Cmdlets and their parameters: declaring a cmdlet, binding a CommandInvocation's parameters to it as
PowerShell does (names case-insensitively, unique prefixes, aliases, positions, type conversion, mandatory
parameters, common parameters), and the call a cmdlet's implementation receives."""

from __future__ import annotations

import decimal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psrpcore.types import ErrorCategory, PSObject

from clusterstack.simulator.winrm.cmdlets import errors
from clusterstack.simulator.winrm.cmdlets.objects import to_string
from clusterstack.simulator.winrm.commands import CmdletFailure, CommandInvocation, ErrorRecordInfo

if TYPE_CHECKING:
    from clusterstack.simulator.winrm.cmdlets.host import Session

# PowerShell's common parameters (and the ShouldProcess ones), accepted by every cmdlet
COMMON = {
    "verbose": "Verbose", "vb": "Verbose", "debug": "Debug", "db": "Debug", "erroraction": "ErrorAction",
    "ea": "ErrorAction", "warningaction": "WarningAction", "wa": "WarningAction",
    "informationaction": "InformationAction", "infa": "InformationAction", "errorvariable": "ErrorVariable",
    "ev": "ErrorVariable", "warningvariable": "WarningVariable", "wv": "WarningVariable",
    "informationvariable": "InformationVariable", "iv": "InformationVariable", "outvariable": "OutVariable",
    "ov": "OutVariable", "outbuffer": "OutBuffer", "ob": "OutBuffer", "pipelinevariable": "PipelineVariable",
    "pv": "PipelineVariable", "whatif": "WhatIf", "wi": "WhatIf", "confirm": "Confirm", "cf": "Confirm",
}
ERROR_ACTIONS = ("SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend")

NET_TYPES = {"str": "System.String", "str[]": "System.String[]", "int16": "System.Int16", "int32": "System.Int32",
             "int64": "System.Int64", "uint32": "System.UInt32", "uint64": "System.UInt64",
             "switch": "System.Management.Automation.SwitchParameter", "bool": "System.Boolean",
             "object": "System.Object", "object[]": "System.Object[]", "hashtable": "System.Collections.Hashtable",
             "int32[]": "System.Int32[]"}
INT_RANGES = {"int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1),
              "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "str"  # a key of NET_TYPES, or "enum"
    mandatory: bool = False
    position: int | None = None
    aliases: tuple[str, ...] = ()
    pipeline: bool = False  # ValueFromPipeline
    choices: tuple[str, ...] = ()  # an enum's names
    enum_type: str = ""  # an enum's .NET type name


@dataclass
class Cmdlet:
    name: str
    command_class: str  # e.g. Microsoft.FailoverClusters.PowerShell.GetClusterNodeCommand
    module: str  # FailoverClusters, Hyper-V, ...
    params: tuple[Param, ...]
    run: Callable[[Call], Awaitable[None]]

    def lookup(self, given: str) -> Param | str | None:
        """The parameter `given` names (a Param), a common parameter's name (str), or None; ambiguity raises."""
        lowered = given.lower()
        for param in self.params:
            if param.name.lower() == lowered or lowered in (a.lower() for a in param.aliases):
                return param
        if lowered in COMMON:
            return COMMON[lowered]
        matches = [p for p in self.params if p.name.lower().startswith(lowered)]
        commons = sorted({v for k, v in COMMON.items() if v.lower().startswith(lowered)})
        if len(matches) + len(commons) == 1:
            return matches[0] if matches else commons[0]
        if len(matches) + len(commons) > 1:
            names = " ".join(f"-{n}" for n in [*(p.name for p in matches), *commons])
            raise errors.binding(f"Parameter cannot be processed because the parameter name '{given}' is ambiguous. "
                                 f"Possible matches include: {names}.", "AmbiguousParameter", self.name,
                                 self.command_class)
        return None


REGISTRY: dict[str, Cmdlet] = {}


def cmdlet(name: str, command_class: str, module: str, *params: Param) -> Callable[
        [Callable[[Call], Awaitable[None]]], Callable[[Call], Awaitable[None]]]:
    def register(run: Callable[[Call], Awaitable[None]]) -> Callable[[Call], Awaitable[None]]:
        REGISTRY[name.lower()] = Cmdlet(name, command_class, module, tuple(params), run)
        return run

    return register


def _cannot_convert(cmdlet: Cmdlet, param: Param, value: Any, error: str) -> CmdletFailure:
    net = param.enum_type or NET_TYPES.get(param.kind, "System.Object")
    return errors.binding(f"Cannot bind parameter '{param.name}'. Cannot convert value \"{to_string(value)}\" to type "
                          f"\"{net}\". Error: \"{error}\"", "CannotConvertArgumentNoMessage", cmdlet.name,
                          cmdlet.command_class, target=to_string(value))


def _scalar(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return value[0]
    return value


def convert(cmdlet: Cmdlet, param: Param, value: Any) -> Any:
    kind = param.kind
    if kind == "switch":
        return True if value is None else bool(value)
    if kind == "bool":
        return bool(value)
    if kind in ("object", "hashtable"):
        return value
    if kind == "object[]":
        return list(value) if isinstance(value, (list, tuple)) else [value]
    if kind == "str":
        if isinstance(value, (list, tuple)):
            return " ".join(to_string(v) for v in value)
        return to_string(value)
    if kind == "str[]":
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        return [to_string(v) for v in items]
    if kind == "int32[]":
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        return [convert(cmdlet, Param(param.name, "int32"), v) for v in items]
    if kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        raw = _scalar(value)
        try:
            if isinstance(raw, bool):
                number = int(raw)
            elif isinstance(raw, (int, float, decimal.Decimal)):
                number = round(raw)
            elif isinstance(raw, str):
                number = _parse_number(raw)
            else:
                raise ValueError
        except (ValueError, TypeError):
            raise _cannot_convert(cmdlet, param, value, "Input string was not in a correct format.") from None
        if not low <= number <= high:
            net = NET_TYPES[kind].rsplit(".", 1)[-1]
            raise _cannot_convert(cmdlet, param, value, f"Value was either too large or too small for an {net}.")
        return number
    if kind == "enum":
        raw = to_string(_scalar(value))
        for choice in param.choices:
            if choice.lower() == raw.strip().lower():
                return choice
        raise _cannot_convert(cmdlet, param, value,
                              f"Unable to match the identifier name {raw} to a valid enumerator name. Specify one of "
                              f"the following enumerator names and try again:\r\n{', '.join(param.choices)}")
    raise AssertionError(f"unknown parameter kind {kind}")


_MULTIPLIERS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4, "pb": 1024**5}


def _parse_number(text: str) -> int:
    """A number as PowerShell converts a string to an integer (with its KB/MB/GB/TB suffixes)."""
    stripped = text.strip()
    multiplier = 1
    if stripped[-2:].lower() in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[stripped[-2:].lower()]
        stripped = stripped[:-2]
    if stripped.lower().startswith("0x"):
        return int(stripped, 16) * multiplier
    number = decimal.Decimal(stripped)
    return int(number.to_integral_value(rounding=decimal.ROUND_HALF_EVEN)) * multiplier


@dataclass
class Call:
    """One command of a pipeline, bound: what its implementation reads and writes."""

    session: Session
    cmdlet: Cmdlet
    args: dict[str, Any]  # canonical parameter name -> converted value
    common: dict[str, Any]
    input: list[Any]  # the objects the previous command of the pipeline wrote
    output: list[Any] = field(default_factory=list)
    errors: list[ErrorRecordInfo] = field(default_factory=list)

    @property
    def sim(self) -> Any:
        return self.session.sim

    def has(self, name: str) -> bool:
        return name in self.args

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    def emit(self, obj: Any) -> None:
        self.output.append(obj)

    def error(self, rec: ErrorRecordInfo) -> None:
        """A non-terminating error (-ErrorAction Stop makes it terminating, SilentlyContinue/Ignore drop it)."""
        action = str(self.common.get("ErrorAction") or "Continue")
        if action == "Stop":
            raise CmdletFailure(rec)
        if action in ("SilentlyContinue", "Ignore"):
            return
        self.errors.append(rec)

    def fail(self, rec: ErrorRecordInfo) -> CmdletFailure:
        return CmdletFailure(rec)

    def record(self, message: str, category: ErrorCategory, reason: str, exception: str,
               target: object = None) -> ErrorRecordInfo:
        """A record of this cmdlet with FQID `<reason>,<command class>`."""
        return errors.record(message, category, f"{reason},{self.cmdlet.command_class}", exception, target,
                             self.cmdlet.name)


def bind(cmdlet: Cmdlet, invocation: CommandInvocation, has_input: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The invocation's parameters bound to `cmdlet`: (parameters, common parameters)."""
    args: dict[str, Any] = {}
    common: dict[str, Any] = {}
    for given, value in invocation.parameters.items():
        found = cmdlet.lookup(given.lstrip("-"))
        if found is None:
            raise errors.binding(f"A parameter cannot be found that matches parameter name '{given.lstrip('-')}'.",
                                 "NamedParameterNotFound", cmdlet.name, cmdlet.command_class,
                                 target=given.lstrip("-"))
        if isinstance(found, str):
            if found == "ErrorAction":
                action = to_string(_scalar(value))
                match = next((a for a in ERROR_ACTIONS if a.lower() == action.lower()), None)
                if match is None:
                    raise _cannot_convert(cmdlet, Param("ErrorAction", "enum", choices=ERROR_ACTIONS,
                                                        enum_type="System.Management.Automation.ActionPreference"),
                                          value, f"Unable to match the identifier name {action} to a valid "
                                          "enumerator name. Specify one of the following enumerator names and try "
                                          f"again:\r\n{', '.join(ERROR_ACTIONS)}")
                common[found] = match
            else:
                common[found] = value
            continue
        if found.name in args:
            raise errors.binding(f"Cannot bind parameter because parameter '{found.name}' is specified more than "
                                 "once. To provide multiple values to parameters that can accept multiple values, "
                                 "use the array syntax. For example, \"-parameter value1,value2,value3\".",
                                 "ParameterAlreadyBound", cmdlet.name, cmdlet.command_class)
        args[found.name] = convert(cmdlet, found, value)
    positional = sorted((p for p in cmdlet.params if p.position is not None and p.name not in args),
                        key=lambda p: p.position or 0)
    for value in invocation.arguments:
        if not positional:
            raise errors.binding(f"A positional parameter cannot be found that accepts argument "
                                 f"'{to_string(value)}'.", "PositionalParameterNotFound", cmdlet.name,
                                 cmdlet.command_class, target=to_string(value))
        param = positional.pop(0)
        args[param.name] = convert(cmdlet, param, value)
    missing = [p.name for p in cmdlet.params
               if p.mandatory and p.name not in args and not (p.pipeline and has_input)]
    if missing:
        raise errors.binding(f"Cannot process command because of one or more missing mandatory parameters: "
                             f"{' '.join(missing)}.", "MissingMandatoryParameter", cmdlet.name, cmdlet.command_class)
    return args, common


def input_not_bound(call: Call, obj: Any) -> ErrorRecordInfo:
    return call.record("The input object cannot be bound to any parameters for the command either because the "
                       "command does not take pipeline input or the input and its properties do not match any of "
                       "the parameters that take pipeline input.", ErrorCategory.InvalidArgument,
                       "InputObjectNotBound", errors.PARAMETER_BINDING, to_string(obj))


def accepts_pipeline(cmdlet: Cmdlet) -> bool:
    return any(p.pipeline for p in cmdlet.params)


def names(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def is_object(value: Any) -> bool:
    return isinstance(value, PSObject) and not isinstance(value, (str, int, float))
