"""Objects passed down a pipeline: a piped VM names its own node, and a cmdlet that is given nothing answers
nothing (PowerShell never processes a record that did not come)."""

from __future__ import annotations

from typing import Any

from .test_cmdlets_reading import cmd, out, run, text, with_sim


def test_piped_vms_bring_their_own_node_and_an_empty_pipe_brings_nothing() -> None:
    async def check(sim: Any) -> None:
        nodes = ["HYPERVCLLOUD13", "HYPERVCLLOUD17"]
        drives = await out(sim, cmd("Get-VM", ComputerName=nodes), cmd("Get-VMHardDiskDrive"))
        assert sorted(text(d.VMName) for d in drives) == ["db1", "web1"]  # db1 is on the other node
        assert {text(d.ComputerName) for d in drives} == set(nodes)
        nothing = await run(sim, cmd("Get-VM", Name="nope", ComputerName=nodes), cmd("Get-VMHardDiskDrive"))
        assert nothing.output == [] and len(nothing.errors) == 2  # "unable to find" on each node, no drives

    with_sim(check)
