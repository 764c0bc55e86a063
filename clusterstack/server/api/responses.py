"""Rendering answers the way CloudStack does: JSON or XML, `<command>response` keys, no nulls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from xml.sax.saxutils import escape

from clusterstack.server.api.listing import ListResponse

CLOUDSTACK_VERSION = "4.19.0.0"


def format_date(value: datetime) -> str:
    """CloudStack's API date format: 2024-05-01T12:34:56+0000."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


_PLAIN = (str, int, float, bool)


def clean(value: Any) -> Any:
    """Drop None values (CloudStack omits null fields) and render dates and enums."""
    kind = type(value)
    if kind in _PLAIN:  # the common case first: most fields of a list page are plain values
        return value
    if kind is dict:
        return {k: (v if type(v) in _PLAIN else clean(v)) for k, v in value.items() if v is not None}
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value if v is not None]
    if isinstance(value, datetime):
        return format_date(value)
    if isinstance(value, Enum):
        return value.value
    return value


def payload_of(result: Any) -> dict[str, Any]:
    if isinstance(result, ListResponse):
        # As CloudStack's ApiResponseSerializer: count only when non-zero, the entity only when non-empty
        # (a page past the end answers {"count": N}).
        payload: dict[str, Any] = {}
        if result.count:
            payload["count"] = result.count
        if result.items:
            payload[result.entity] = result.items
        return payload
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise TypeError(f"command returned {type(result).__name__}, expected a dict or ListResponse")
    return result


def response_key(command_name: str) -> str:
    return f"{command_name.lower()}response"


def render_json(command_name: str, payload: dict[str, Any]) -> bytes:
    body = {response_key(command_name): clean(payload)}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _xml_element(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _xml_element(name, item, out)
        return
    if isinstance(value, dict):
        out.append(f"<{name}>")
        for key, inner in value.items():
            _xml_element(key, inner, out)
        out.append(f"</{name}>")
        return
    out.append(f"<{name}>{_xml_value(value)}</{name}>")


def render_xml(command_name: str, payload: dict[str, Any]) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<{response_key(command_name)} cloud-stack-version="{CLOUDSTACK_VERSION}">']
    for key, value in clean(payload).items():
        _xml_element(key, value, out)
    out.append(f"</{response_key(command_name)}>")
    return "".join(out).encode()


def error_payload(errorcode: int, cserrorcode: int, text: str) -> dict[str, Any]:
    return {"uuidList": [], "errorcode": errorcode, "cserrorcode": cserrorcode, "errortext": text}
