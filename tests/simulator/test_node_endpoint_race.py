"""A node brought up right after it went down answers again: its endpoint closes and reopens in order."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest


def test_node_up_right_after_node_down_reopens_the_endpoint(simulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="clusterstack.simulator")
    address = next(n["address"] for n in simulator.report()["nodes"] if n["name"] == "HYPERVCLLOUD17")
    for _ in range(50):
        simulator.fault("node-down", node="HYPERVCLLOUD17")
        simulator.fault("node-up", node="HYPERVCLLOUD17")
        assert httpx.get(address, timeout=5).json()["name"] == "HYPERVCLLOUD17"
    assert "cannot listen" not in caplog.text
