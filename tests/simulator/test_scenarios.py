"""Every scenario under scenarios/ replays to exactly its recorded event log and final state, and the rule it
documents holds in that result."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clusterstack.simulator.runner import run_scenario_file

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def roles(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in result["final"]["roles"]}


def nodes(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in result["final"]["nodes"]}


def first(result: dict[str, Any], event_id: int) -> float:
    return next(e["time"] for e in result["events"] if e["id"] == event_id)


def event_ids(result: dict[str, Any]) -> set[int]:
    return {e["id"] for e in result["events"]}


RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "seed-node-crash": lambda r: (
        [roles(r)[n]["owner_node"] for n in ("i-4-5-VM", "i-4-6-VM")] == ["HYPERVCLLOUD13"] * 2
        and first(r, 1135) == 70.0) or pytest.fail("HA roles restart on HYPERVCLLOUD13 10 s after the crash"),
    "static-quorum-lost-and-regained": lambda r: (
        first(r, 1177) == 20.0 and 1000 in event_ids(r) and r["final"]["quorum"]["state"] == "Up"
        and roles(r)["vm-high"]["vm_state"] == "Running") or pytest.fail("lost, then formed again"),
    "dynamic-quorum-to-the-last-node": lambda r: (
        r["final"]["quorum"]["state"] == "Up" and nodes(r)["N1"]["current_vote"] == 1
        and all(x["owner_node"] == "N1" for x in roles(r).values())) or pytest.fail("runs on the last node"),
    "simultaneous-majority-loss": lambda r: (
        r["final"]["quorum"]["state"] == "Lost" and roles(r)["vm-a"]["vm_state"] == "Off")
        or pytest.fail("majority lost at once stops the cluster"),
    "partition-minority-side-loses": lambda r: (
        {roles(r)[n]["owner_node"] for n in ("vm-on-4", "vm-on-5")} <= {"N1", "N2", "N3"})
        or pytest.fail("the minority side's roles fail over"),
    "witness-tie-break": lambda r: (
        nodes(r)["N1"]["state"] == "Up" and nodes(r)["N3"]["state"] == "Down")
        or pytest.fail("the witness owner's side wins the tie"),
    "priority-under-memory-pressure": lambda r: (
        [e["message"].split("'")[1] for e in r["events"] if e["id"] == 1153] == ["vm-high", "vm-medium"]
        and 1205 in event_ids(r) and roles(r)["vm-low"]["vm_state"] == "Running")
        or pytest.fail("High first; Low failed until capacity freed"),
    "no-auto-start": lambda r: (
        roles(r)["i-4-3-VM"]["owner_node"] == "HYPERVCLLOUD13" and roles(r)["i-4-3-VM"]["vm_state"] == "Off")
        or pytest.fail("No Auto Start moves and stays off"),
    "drain-and-resume": lambda r: (
        {20413, 20415, 20418, 18510} <= event_ids(r)
        and all(x["owner_node"] == "HYPERVCLLOUD17" for x in roles(r).values()))
        or pytest.fail("live/quick migration on drain, failback on resume"),
    "csv-coordinator-move": lambda r: (
        r["final"]["disks"][0]["owner_node"] != "N1" and r["final"]["disks"][0]["state"] == "Online")
        or pytest.fail("coordinator moves off the crashed node"),
    "redirected-access": lambda r: (
        {5121, 5125} <= event_ids(r) and roles(r)["vm-on-2"]["vm_state"] == "Running")
        or pytest.fail("redirected access, then direct again"),
    "anti-affinity": lambda r: roles(r)["sql-2"]["owner_node"] == "N3" or pytest.fail("sql-2 avoids sql-1"),
    "preferred-owners": lambda r: roles(r)["app"]["owner_node"] == "N3" or pytest.fail("preferred owner first"),
    "failover-threshold-exceeded": lambda r: (
        roles(r)["flaky"]["state"] == "Failed" and 1254 in event_ids(r)) or pytest.fail("left failed"),
    "resiliency-2016": lambda r: (
        first(r, 1153) == 260.0 and nodes(r)["N3"]["state"] == "Down")
        or pytest.fail("fails over only after 240 s of isolation"),
    "immediate-failover-2012r2": lambda r: first(r, 1153) == 15.0 or pytest.fail("fails over at once"),
    "quarantine": lambda r: nodes(r)["N3"]["state"] == "Quarantined" or pytest.fail("third leave quarantines"),
    "quarantine-cleared": lambda r: (
        1683 in event_ids(r) and nodes(r)["N3"]["state"] == "Up")
        or pytest.fail("quarantined, then cleared: joins at once"),
    "disk-failure": lambda r: (
        {5120, 1069, 1205} <= event_ids(r) and roles(r)["vm-a"]["vm_state"] == "Running")
        or pytest.fail("roles fail with their disk and return with it"),
}


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_scenario_replays_to_its_expected_log(name: str) -> None:
    result = run_scenario_file(SCENARIOS / f"{name}.yaml")
    expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text())
    assert result["final"] == expected["final"]
    assert result["events"] == expected["events"], "event log differs (scripts/regenerate-scenario-logs, review)"
    assert name in RULES, f"scenario {name} documents no rule in RULES"
    RULES[name](result)
