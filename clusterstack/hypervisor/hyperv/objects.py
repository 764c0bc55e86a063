"""Reading the objects PowerShell remoting sends back (pypsrp's deserialized CLIXML) field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pypsrp.complex_objects import GenericComplexObject


def prop(obj: Any, name: str, default: Any = None) -> Any:
    """A property of a deserialized object: adapted (the .NET object's) first, then extended (note properties)."""
    if isinstance(obj, GenericComplexObject):
        if name in obj.adapted_properties:
            return obj.adapted_properties[name]
        return obj.extended_properties.get(name, default)
    if isinstance(obj, dict):
        return obj.get(name, default)
    return default


def type_names(obj: Any) -> list[str]:
    return list(obj.types) if isinstance(obj, GenericComplexObject) else []


def text(value: Any, default: str = "") -> str:
    """A string property; a complex value past remoting's depth arrives as its ToString()."""
    if value is None:
        return default
    if isinstance(value, GenericComplexObject):
        return value.to_string if value.to_string is not None else default
    return str(value)


def enum_name(value: Any, default: str = "Unknown") -> str:
    """An enum's name as PowerShell prints it (its ToString)."""
    if value is None:
        return default
    if isinstance(value, GenericComplexObject):
        return value.to_string or default
    return str(value)


def number(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, GenericComplexObject):
        if value.property_sets:
            return int(value.property_sets[0])
        return default
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def flags(value: Any) -> set[str]:
    """The names set in a [Flags] enum ('Isolated, DrainInProgress' -> {'Isolated', 'DrainInProgress'})."""
    return {part.strip() for part in enum_name(value, "").split(",") if part.strip()}


def boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [text(v) for v in value]
    if isinstance(value, GenericComplexObject) and value.property_sets and isinstance(value.property_sets[0], list):
        return [text(v) for v in value.property_sets[0]]
    return [text(value)]


def timestamp(value: Any) -> datetime:
    """A DateTime as PSRP carries it (ISO 8601 with 7 fractional digits, maybe a zone)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raw = text(value)
    if not raw:
        return datetime.fromtimestamp(0, UTC)
    raw = raw.replace("Z", "+00:00")
    head, dot, rest = raw.partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        raw = f"{head}.{digits[:6]}{zone}"
    parsed = datetime.fromisoformat(raw)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
