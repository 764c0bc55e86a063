"""Parsing request parameters into typed values, with CloudStack's messages for bad input."""

from __future__ import annotations

import re
import uuid as uuidlib
from datetime import UTC, date, datetime
from typing import Any

from clusterstack.server.api.errors import param_error
from clusterstack.server.api.registry import ApiCommand, Param

_MAP_KEY = re.compile(r"^([A-Za-z0-9_]+)\[(\d+)\]\.([A-Za-z0-9_]+)$")
_INT_LIMITS = {"integer": (-(2**31), 2**31 - 1), "short": (-(2**15), 2**15 - 1), "long": (-(2**63), 2**63 - 1)}


def _bad_value(param: Param, raw: str, why: str) -> Exception:
    return param_error(f"Invalid parameter {param.name} value={raw} due to {why}")


def _parse_uuid(param: Param, raw: str) -> str:
    try:
        return str(uuidlib.UUID(raw.strip()))
    except ValueError:
        raise _bad_value(param, raw, "incorrect UUID format, or entity does not exist") from None


def _parse_scalar(param: Param, type_name: str, raw: str) -> Any:
    if type_name == "uuid":
        return _parse_uuid(param, raw)
    if type_name in _INT_LIMITS:
        try:
            value = int(raw.strip())
        except ValueError:
            raise _bad_value(param, raw, f"incorrect {type_name} value format") from None
        low, high = _INT_LIMITS[type_name]
        if not low <= value <= high:
            raise _bad_value(param, raw, f"value out of range for {type_name}")
        if param.minimum is not None and value < param.minimum:
            raise _bad_value(param, raw, f"value below the minimum {param.minimum}")
        if param.maximum is not None and value > param.maximum:
            raise _bad_value(param, raw, f"value above the maximum {param.maximum}")
        return value
    if type_name == "float":
        try:
            return float(raw)
        except ValueError:
            raise _bad_value(param, raw, "incorrect float value format") from None
    if type_name == "boolean":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise _bad_value(param, raw, "incorrect boolean value format (expected true or false)")
        return lowered == "true"
    if type_name == "date":
        return _parse_date(param, raw)
    # string
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
