"""Parsing request parameters into typed values, with CloudStack's messages for bad input."""

from __future__ import annotations

import math
import re
import uuid as uuidlib
from datetime import UTC, date, datetime
from typing import Any

from clusterstack.server.api.errors import param_error
from clusterstack.server.api.registry import ApiCommand, Param

_MAP_KEY = re.compile(r"^([A-Za-z0-9_]+)\[(\d+)\]\.([A-Za-z0-9_]+)$")
# The column types behind the parameter types: CloudStack's Integer, Short and Long are Java's 32, 16 and 64 bits.
_INT_LIMITS = {"integer": (-(2**31), 2**31 - 1), "short": (-(2**15), 2**15 - 1), "long": (-(2**63), 2**63 - 1)}
# Tighter bounds where the domain sets them, by parameter name for every command at once. Sizes in GB become
# bytes in 64-bit columns and VHDX files, and a VHDX holds at most 64 TB.
VHDX_MAX_GB = 64 * 1024
_DOMAIN_LIMITS: dict[str, tuple[int, int]] = {
    "disksize": (0, VHDX_MAX_GB),
    "size": (0, VHDX_MAX_GB),
    "rootdisksize": (0, VHDX_MAX_GB),
}

# C0 control characters (and DEL) have no place in a name, an id or a number, and XML 1.0 cannot carry most of
# them at all. Tab, line feed and carriage return are allowed in the values of free-text parameters only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FREE_TEXT_PARAMS = frozenset({"displaytext", "description", "userdata", "comment", "reason", "message"})


def _bad_value(param: Param, raw: str, why: str) -> Exception:
    return param_error(f"Invalid parameter {param.name} value={raw} due to {why}")


def _parse_uuid(param: Param, raw: str) -> str:
    if param.sentinel is not None and raw.strip() == param.sentinel:
        return param.sentinel
    try:
        return str(uuidlib.UUID(raw.strip()))
    except ValueError:
        raise _bad_value(param, raw, "incorrect UUID format, or entity does not exist") from None


def _character_name(char: str) -> str:
    return f"U+{ord(char):04X}"


def refuse_control_characters(raw: dict[str, str]) -> None:
    """Refuse a request whose parameter names or values hold control characters, before authentication or any
    database work (PostgreSQL refuses a NUL in text outright; XML cannot carry it). Values may hold tab and
    newlines here; parse_params refuses those too where the parameter is not free text."""
    for key, value in raw.items():
        bad = _CONTROL.search(key)
        if bad:
            shown = _CONTROL.sub("?", key)
            raise param_error(f"Invalid parameter name {shown}: control character {_character_name(bad.group())} "
                              "is not allowed")
        bad = _CONTROL_BUT_WHITESPACE.search(value)
        if bad:
            raise param_error(f"Invalid parameter {key}: control character {_character_name(bad.group())} is "
                              "not allowed")


def integer_bounds(param: Param, type_name: str) -> tuple[int, int]:
    """The range a parameter's value must lie in: its type's, narrowed by the domain and by the command."""
    low, high = _INT_LIMITS[type_name]
    domain = _DOMAIN_LIMITS.get(param.name.lower())
    if domain is not None:
        low, high = max(low, domain[0]), min(high, domain[1])
    if param.minimum is not None:
        low = max(low, param.minimum)
    if param.maximum is not None:
        high = min(high, param.maximum)
    return low, high


def _parse_scalar(param: Param, type_name: str, raw: str) -> Any:
    if type_name == "uuid":
        return _parse_uuid(param, raw)
    if type_name in _INT_LIMITS:
        try:
            value = int(raw.strip())
        except ValueError:
            raise _bad_value(param, raw, f"incorrect {type_name} value format") from None
        low, high = integer_bounds(param, type_name)
        if not low <= value <= high:
            raise _bad_value(param, raw, f"value out of range: must be between {low} and {high}")
        return value
    if type_name == "float":
        try:
            number = float(raw)
        except ValueError:
            raise _bad_value(param, raw, "incorrect float value format") from None
        if not math.isfinite(number):
            raise _bad_value(param, raw, "value out of range: must be a finite number")
        return number
    if type_name == "boolean":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise _bad_value(param, raw, "incorrect boolean value format (expected true or false)")
        return lowered == "true"
    if type_name == "date":
        return _parse_date(param, raw)
    # string
    if param.name.lower() not in FREE_TEXT_PARAMS:
        bad = _CONTROL.search(raw)
        if bad:
            raise param_error(f"Invalid parameter {param.name}: control character {_character_name(bad.group())} "
                              "is not allowed")
    if len(raw) > param.length:
        raise param_error(f"Invalid parameter {param.name}: longer than the {param.length} characters allowed")
    if param.choices is not None:
        for choice in param.choices:
            if choice.lower() == raw.lower():
                return choice
        allowed = ", ".join(param.choices)
        raise param_error(f"Invalid parameter {param.name} value={raw}: must be one of {allowed}")
    return raw


def _parse_date(param: Param, raw: str) -> datetime:
    text = raw.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if isinstance(parsed, date) and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed
    raise _bad_value(param, raw, "incorrect date format (use yyyy-MM-dd or yyyy-MM-dd HH:mm:ss)")


def collect_maps(raw: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    """`tags[0].key=a&tags[0].value=b&tags[1].key=c` -> {"tags": [{"key": "a", "value": "b"}, {"key": "c"}]}."""
    grouped: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in raw.items():
        match = _MAP_KEY.match(key)
        if match:
            name, index, sub = match.group(1).lower(), int(match.group(2)), match.group(3)
            if sub.lower() != "value" and _CONTROL.search(value):  # keys and names of map entries
                raise param_error(f"Invalid parameter {key}: control characters are not allowed")
            grouped.setdefault(name, {}).setdefault(index, {})[sub] = value
    return {name: [entries[i] for i in sorted(entries)] for name, entries in grouped.items()}


def parse_params(command: ApiCommand, raw: dict[str, str]) -> dict[str, Any]:
    """Check required parameters and parse every declared one; unknown parameters are ignored, as CloudStack does."""
    lowered = {k.lower(): v for k, v in raw.items()}
    maps = collect_maps(raw)
    parsed: dict[str, Any] = {}
    for param in command.params:
        key = param.name.lower()
        if param.type == "map":
            if key in maps:
                parsed[param.name] = maps[key]
            elif param.required:
                raise missing(command, param)
            continue
        value = lowered.get(key)
        if value is None or (value == "" and param.type != "string"):
            if param.required:
                raise missing(command, param)
            continue
        if value == "" and param.required:
            raise missing(command, param)
        if param.type == "list":
            element = param.collection_type or "string"
            items = [item for item in value.split(",") if item.strip() != ""]
            parsed[param.name] = [_parse_scalar(param, element, item.strip()) for item in items]
        else:
            parsed[param.name] = _parse_scalar(param, param.type, value)
    return parsed


def missing(command: ApiCommand, param: Param) -> Exception:
    return param_error(
        f"Unable to execute API command {command.name.lower()} due to missing parameter {param.name}"
    )


def given_uuid(name: str, value: str) -> str:
    """A UUID the caller chooses for a new object (CloudStack types these parameters as strings): its canonical
    form, or 431 naming the parameter."""
    try:
        return str(uuidlib.UUID(value.strip()))
    except ValueError:
        raise param_error(f"Invalid parameter {name} value={value}: not a UUID") from None


def needed_here(command: str, params: dict[str, Any], name: str, why: str) -> Any:
    """A parameter CloudStack does not require in general but clusterstack needs for what it runs (Hyper-V
    failover clusters): its value, or 431 saying why it is needed."""
    if name not in params:
        raise param_error(f"Unable to execute API command {command.lower()} due to missing parameter {name}: {why}")
    return params[name]
