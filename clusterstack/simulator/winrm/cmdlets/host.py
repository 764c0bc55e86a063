"""A PowerShell session on a simulated node: runs statements of cmdlet pipelines against the SimulatedCluster.

`host_factory(sim)` is the PowerShellHostFactory the WinRM transport opens sessions with: `endpoint` is a
node's name, or the cluster's name (the cluster network name, which runs on the node owning the core cluster
group, the lowest-index running member).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clusterstack.simulator.service import SimulatedCluster
from clusterstack.simulator.winrm.cmdlets import errors
from clusterstack.simulator.winrm.cmdlets.binding import (
    REGISTRY,
    Call,
    accepts_pipeline,
    bind,
    input_not_bound,
)
from clusterstack.simulator.winrm.commands import CommandInvocation, PipelineResult, PowerShellHostFactory

FAILOVER_CLUSTERS = "FailoverClusters"


class Session:
    """A PowerShell session opened on `endpoint` by `username`."""

    def __init__(self, sim: SimulatedCluster, endpoint: str, username: str) -> None:
        self.sim = sim
        self.endpoint = endpoint
        self.username = username

    @property
    def is_cluster_name(self) -> bool:
        return self._named_node(self.endpoint) is None

    @property
    def node(self) -> str:
        """The node this session runs on."""
        node = self._named_node(self.endpoint)
        return node if node is not None else core_group_owner(self.sim)

    def _named_node(self, computer: str) -> str | None:
        lowered = computer.strip().lower()
        short = lowered.split(".", 1)[0]
        for name in self.sim.cluster.nodes:
            if name.lower() in (lowered, short):
                return name
        return None

    def node_of(self, computer: str) -> str | None:
        """The node `computer` names (its name or FQDN, case-insensitively; `localhost` and `.` are this
        session's node)."""
        if computer.strip().lower() in ("localhost", ".", "127.0.0.1", "::1"):
            return self.node
        return self._named_node(computer)

    async def run(self, statements: Sequence[Sequence[CommandInvocation]]) -> PipelineResult:
        result = PipelineResult()
        for statement in statements:
            objects: list[Any] = []
            for position, invocation in enumerate(statement):
                objects = await self._run_command(invocation, objects, position > 0, result)
            result.output.extend(objects)
        return result

    async def _run_command(self, invocation: CommandInvocation, objects: list[Any], piped: bool,
                           result: PipelineResult) -> list[Any]:
        cmdlet = REGISTRY.get(invocation.name.strip().lower())
        if cmdlet is None:
            raise errors.command_not_found(invocation.name)
        if piped and not objects:
            # nothing came down the pipeline: PowerShell never runs the cmdlet's record processing, so a
            # `Get-VM -Name x | Get-VMHardDiskDrive` that found no VM answers nothing (not every drive of the node)
            return []
        args, common = bind(cmdlet, invocation, piped and bool(objects))
        call = Call(self, cmdlet, args, common, list(objects))
        if cmdlet.module == FAILOVER_CLUSTERS and not self.sim.cluster.cluster_up:
            raise errors.cluster_not_running(cmdlet.name, cmdlet.command_class)
        if objects and not accepts_pipeline(cmdlet):
            for obj in objects:
                call.error(input_not_bound(call, obj))
            call.input = []
        try:
            await cmdlet.run(call)
        finally:
            result.errors.extend(call.errors)
        return call.output


def core_group_owner(sim: SimulatedCluster) -> str:
    """The node owning the core cluster group (`Cluster Group`): the lowest-index running member."""
    return sim.cluster._reporter()


def host_factory(sim: SimulatedCluster) -> PowerShellHostFactory:
    # the cmdlet modules register themselves when imported
    from clusterstack.simulator.winrm.cmdlets import (  # noqa: F401
        event_log,
        failover_clusters,
        hyperv,
        windows,
    )

    def open_session(endpoint: str, username: str) -> Session:
        return Session(sim, endpoint, username)

    return open_session
