"""Objects as PowerShell remoting sends them, and back.

* Output objects travel at depth 1: an object's properties are written, and a property whose value is itself a
  complex object arrives as that object's ToString(). Primitives, enums and collections stay what they are; the
  items of a collection (and the keys and values of a dictionary) are one level deeper, so a complex item becomes
  its ToString() too (``Get-VM``'s ``NetworkAdapters`` arrives as a list of strings).
* Error records carry the exception (with its .NET type names), the ErrorCategoryInfo and the fully qualified
  error id, flattened as PowerShell flattens them (``ErrorCategory_Category``, ``ErrorCategory_Message`` ...), so a
  client sees what a Windows node sends.
* Parameter values from the client (psrpcore's PSString, PSInt ...) become plain Python values for the cmdlets.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any

from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    ErrorRecord,
    NETException,
    PSCustomObject,
    PSDict,
    PSList,
    PSNoteProperty,
    PSObject,
    PSSecureString,
    PSVersion,
)

from clusterstack.simulator.winrm.commands import ErrorRecordInfo

_PRIMITIVES = (str, bool, int, float, bytes, datetime.datetime, datetime.timedelta, uuid.UUID, decimal.Decimal,
               enum.Enum, PSVersion, PSSecureString)

# The .NET base types of the exceptions the simulated cmdlets raise (others derive from System.Exception).
_RUNTIME = ["System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception",
            "System.Object"]
_EXCEPTION_BASES: dict[str, list[str]] = {
    "System.Management.Automation.RuntimeException": _RUNTIME[1:],
    "System.Management.Automation.CommandNotFoundException": _RUNTIME,
    "System.Management.Automation.ParameterBindingException": _RUNTIME,
    "System.Management.Automation.ItemNotFoundException": ["System.Management.Automation.SessionStateException",
                                                           *_RUNTIME],
    "System.Management.Automation.PipelineStoppedException": _RUNTIME,
    "System.ArgumentException": ["System.SystemException", "System.Exception", "System.Object"],
    "System.InvalidOperationException": ["System.SystemException", "System.Exception", "System.Object"],
    "System.Management.Automation.ActionPreferenceStopException": _RUNTIME,
}
# HResults .NET gives these exceptions (COR_E_SYSTEM for the rest, as RuntimeException has).
_HRESULTS = {"System.ArgumentException": -2147024809, "System.InvalidOperationException": -2146233079}


def is_primitive(value: Any) -> bool:
    return value is None or isinstance(value, _PRIMITIVES)


def to_string(value: Any) -> str:
    """PowerShell's ToString() of a value."""
    if isinstance(value, PSObject) and not isinstance(value, _PRIMITIVES):
        text = value.PSObject.to_string
        if text is not None:
            return text
        if isinstance(value, PSCustomObject) or (value.PSObject.type_names or [""])[0] == \
                "System.Management.Automation.PSCustomObject":
            pairs = "; ".join(f"{name}={to_string(v)}" for name, v in _properties(value))
            return "@{" + pairs + "}"
        return (value.PSObject.type_names or ["System.Object"])[0]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, enum.Enum):
        return str(value.name)
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "System.Object[]"
    return str(value)


def _properties(value: PSObject) -> list[tuple[str, Any]]:
    meta = value.PSObject
    return [(p.name, p.get_value(value)) for p in [*meta.adapted_properties, *meta.extended_properties]]


def _shallow(value: Any) -> Any:
    """A value one level below the object being written: primitives stay, complex values become ToString()."""
    if is_primitive(value):
        return value
    return to_string(value)


def _property_value(value: Any) -> Any:
    """A property value of an object being written (depth 1)."""
    if is_primitive(value):
        return value
    if isinstance(value, dict):
        return PSDict({_shallow(k): _shallow(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        return PSList([_shallow(v) for v in value])
    return to_string(value)


def for_remoting(value: Any) -> Any:
    """An output object as remoting writes it: its properties at depth 1."""
    if is_primitive(value):
        return value
    if isinstance(value, dict):
        return PSDict({_shallow(k): _property_value(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        return PSList([_property_value(v) for v in value])
    if not isinstance(value, PSObject):
        return to_string(value)
    flat = PSObject()
    flat.PSObject.type_names = list(value.PSObject.type_names)
    flat.PSObject.to_string = to_string(value)
    meta = value.PSObject
    for source, target in ((meta.adapted_properties, flat.PSObject.adapted_properties),
                           (meta.extended_properties, flat.PSObject.extended_properties)):
        for prop in source:
            target.append(PSNoteProperty(prop.name, value=_property_value(prop.get_value(value))))
    return flat


def plain(value: Any) -> Any:
    """A parameter value as the cmdlets take it: str, int, float, bool, list, dict, or the object itself."""
    if value is None or isinstance(value, (bool, enum.Enum)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _exception(type_name: str, message: str) -> NETException:
    exception = NETException(Message=message, HResult=_HRESULTS.get(type_name, -2146233087))
    bases = _EXCEPTION_BASES.get(type_name, ["System.Exception", "System.Object"])
    exception.PSObject.type_names = [type_name, *bases]
    exception.PSObject.to_string = f"{type_name}: {message}"
    return exception


class RemoteErrorRecord(ErrorRecord):
    """An ErrorRecord whose serialized ErrorCategory_Message reads as PowerShell's ErrorCategoryInfo.ToString():
    ``ObjectNotFound: (CI1-vm:String) [Get-VM], VirtualizationException``."""

    category_message: str = ""

    @classmethod
    def ToPSObjectForRemoting(cls, instance: ErrorRecord, **kwargs: Any) -> PSObject:
        obj = ErrorRecord.ToPSObjectForRemoting(instance, **kwargs)
        message = getattr(instance, "category_message", "")
        if message:
            for prop in obj.PSObject.extended_properties:
                if prop.name == "ErrorCategory_Message":
                    prop.set_value(message, obj)
        return obj


def error_record(info: ErrorRecordInfo, command: str) -> ErrorRecord:
    """The ErrorRecord PowerShell writes for `info`, raised by `command`."""
    reason = info.exception_type.rsplit(".", 1)[-1]
    activity = info.activity or command
    target_type = "" if info.target is None else "String"
    category = ErrorCategory(info.category)
    record = RemoteErrorRecord(
        Exception=_exception(info.exception_type, info.message),
        CategoryInfo=ErrorCategoryInfo(Category=category, Activity=activity, Reason=reason,
                                       TargetName=info.target or "", TargetType=target_type),
        TargetObject=info.target,
        FullyQualifiedErrorId=info.fully_qualified_error_id,
    )
    record.category_message = f"{category.name}: ({info.target or ''}:{target_type}) [{activity}], {reason}"
    record.PSObject.type_names = ["System.Management.Automation.ErrorRecord", "System.Object"]
    record.PSObject.to_string = info.message
    return record


def command_not_found(name: str) -> ErrorRecordInfo:
    """PowerShell's error for a command it does not know (or a script the simulator does not run)."""
    return ErrorRecordInfo(
        message=(f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable "
                 "program. Check the spelling of the name, or if a path was included, verify that the path is "
                 "correct and try again."),
        category=int(ErrorCategory.ObjectNotFound),
        fully_qualified_error_id="CommandNotFoundException",
        exception_type="System.Management.Automation.CommandNotFoundException",
        target=name,
        activity=name,
    )
