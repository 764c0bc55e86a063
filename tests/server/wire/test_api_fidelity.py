"""Every command clusterstack implements has CloudStack's shape: async exactly when CloudStack's is, requires no
parameter CloudStack does not require, requires every one it does, and types each parameter as CloudStack does
(`../shared/reference/cloudstack-api.json`, read from CloudStack's source). A new command cannot drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clusterstack.server.api.registry import all_commands, load_commands

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "cloudstack-api.json"
# Where a parameter deliberately takes more than CloudStack's declared type, and why.
WIDER_TYPES = {
    ("login", "domainId"): "the domain's UUID or its numeric id, as CloudStack's ApiServlet looks it up",
}


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if not REFERENCE.exists():
        pytest.fail(f"CloudStack's API reference is not at {REFERENCE}")
    commands: dict[str, Any] = json.loads(REFERENCE.read_text())["commands"]
    load_commands()
    return commands


def _ours() -> list[Any]:
    return [c for c in all_commands() if not c.name.endswith("ForTest")]


def test_async_flags(reference: dict[str, Any]) -> None:
    assert {c.name: c.isasync for c in _ours() if c.name in reference and
            reference[c.name]["isasync"] != c.isasync} == {}


def test_no_parameter_is_required_that_cloudstack_does_not_require(reference: dict[str, Any]) -> None:
    over = [(c.name, p.name) for c in _ours() if c.name in reference for p in c.params
            if p.required and not reference[c.name]["params"].get(p.name, {}).get("required", False)]
    assert over == []


def test_every_parameter_cloudstack_requires_is_taken(reference: dict[str, Any]) -> None:
    lacking = [(c.name, name) for c in _ours() if c.name in reference
               for name, spec in reference[c.name]["params"].items()
               if spec["required"] and name not in {p.name for p in c.params}]
    assert lacking == []


def test_parameter_types(reference: dict[str, Any]) -> None:
    differing = [(c.name, p.name, p.type, reference[c.name]["params"][p.name]["type"]) for c in _ours()
                 if c.name in reference for p in c.params if p.name in reference[c.name]["params"]
                 and p.type != reference[c.name]["params"][p.name]["type"] and (c.name, p.name) not in WIDER_TYPES]
    assert differing == []
