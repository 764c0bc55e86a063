"""Rendering answers the way CloudStack does: JSON or XML, `<command>response` keys, no nulls."""

from __future__ import annotations

import functools
import json
import re
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
    # "replace": a lone surrogate (possible in a SQLite text) cannot be UTF-8; it is written as "?"
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace")


# Characters XML 1.0 cannot carry at all, not even as character references (C0 controls but tab and newlines,
# surrogates, U+FFFE/U+FFFF). A stored value holding one is written with U+FFFD in its place.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")
_ENCODED_LOOKALIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_NOT_XML_CHAR.sub("\ufffd", str(value)))


@functools.lru_cache(maxsize=4096)
def xml_name(key: str) -> str:
    """An element name for any map key: a key that is not a plain XML name has each character that may not
    stand where it does written as _xHHHH_ (XmlConvert.EncodeName's convention, so a Windows client decodes
    it); names never carry a ':' (a namespace prefix) or anything a parser could refuse."""
    if _XML_NAME.match(key) and "_x" not in key:
        return key
    key = _ENCODED_LOOKALIKE.sub("_x005F_", key)  # a literal "_xHHHH_" stays distinguishable from an encoded one
    out: list[str] = []
    for index, char in enumerate(key):
        if _NAME_CHAR.match(char) and (index > 0 or char.isalpha() or char == "_"):
            out.append(char)
        else:
            code = ord(char)
            out.append(f"_x{code:04X}_" if code <= 0xFFFF else f"_x{code:08X}_")
    return "".join(out) or "_"


def _xml_element(name: str, value: Any, out: list[str]) -> None:
    name = xml_name(name)
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
