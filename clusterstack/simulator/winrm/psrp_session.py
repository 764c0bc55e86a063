"""One PowerShell runspace pool (a WS-Management shell of the PowerShell resource URI) and its pipelines.

psrpcore's ServerRunspacePool holds the protocol state; this class feeds it what the client sends (the shell's
creationXml, Command arguments, Send stdin), answers its events, runs each pipeline's commands on the node's
PowerShellHost, and keeps what is to be sent, per pipeline, until the client's Receive takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field

from psrpcore import (
    CreatePipelineEvent,
    GetAvailableRunspacesEvent,
    PSRPEvent,
    PSRPPayload,
    ResetRunspaceStateEvent,
    ServerPipeline,
    ServerRunspacePool,
    SetMaxRunspacesEvent,
    SetMinRunspacesEvent,
    StreamType,
)
from psrpcore.types import PSInvocationState, PSRPMessageType, RunspacePoolState

from clusterstack.simulator.winrm.commands import (
    CmdletFailure,
    CommandInvocation,
    ErrorRecordInfo,
    PowerShellHost,
)
from clusterstack.simulator.winrm.serialization import command_not_found, error_record, for_remoting, plain

log = logging.getLogger("clusterstack.simulator.winrm")

_FINISHED = (PSInvocationState.Completed, PSInvocationState.Failed, PSInvocationState.Stopped)


class PSRPError(Exception):
    """The client sent something this pool cannot take (a broken fragment, an unknown pipeline)."""


@dataclass
class _Outbox:
    """What waits for the client's Receive for one target (the pool itself, or one pipeline)."""

    chunks: list[bytes] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    finished: bool = False  # the pipeline has reached its final state (no more data after these chunks)


class RunspacePoolSession:
    def __init__(self, shell_id: str, host: PowerShellHost, fragment_size: int = 32768) -> None:
        self.shell_id = shell_id
        self.host = host
        self.fragment_size = max(fragment_size, 1024)
        self.pool = ServerRunspacePool()
        self._outboxes: dict[uuid.UUID | None, _Outbox] = {None: _Outbox()}
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.closed = False

    # ---- what the client sends -------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """PSRP fragments for the pool (creationXml, stdin/pr of the shell) or for a pipeline (Send to a command)."""
        try:
            self.pool.receive_data(PSRPPayload(data, StreamType.default, None))
            while True:
                event = self.pool.next_event()
                if event is None:
                    break
                self._on_event(event)
        except PSRPError:
            raise
        except Exception as exc:  # psrpcore's errors and malformed fragments alike
            raise PSRPError(str(exc)) from exc
        finally:
            self._pump()

    def create_pipeline(self, command_id: str, data: bytes) -> uuid.UUID:
        """The Command message: a new pipeline whose CreatePipeline message starts in `data`."""
        try:
            pipeline_id = uuid.UUID(command_id)
        except ValueError:
            raise PSRPError(f"the command id {command_id!r} is not a GUID") from None
        if self.pool.state != RunspacePoolState.Opened:
            raise PSRPError("the runspace pool is not open")
        if pipeline_id in self.pool.pipeline_table:
            raise PSRPError(f"a pipeline {pipeline_id} exists already")
        ServerPipeline(self.pool, pipeline_id)
        self._outboxes[pipeline_id] = _Outbox()
        self.receive(data)
        return pipeline_id

    def has_pipeline(self, command_id: str) -> bool:
        try:
            return uuid.UUID(command_id) in self._outboxes
        except ValueError:
            return False

    def signal(self, command_id: str, code: str) -> None:
        """terminate: the client is done with the pipeline (stopped first if it still runs); ctrl_c: stop it."""
        pipeline_id = uuid.UUID(command_id)
        pipeline = self.pool.pipeline_table.get(pipeline_id)
        task = self._tasks.pop(pipeline_id, None)
        if task is not None and not task.done():
            task.cancel()
        if pipeline is not None and pipeline.state in (PSInvocationState.Running, PSInvocationState.Stopping):
            pipeline.stop()
        if code.lower().endswith("terminate"):
            if pipeline is not None:
                pipeline.close()
            self._outboxes.pop(pipeline_id, None)
        self._pump()

    def close(self) -> None:
        self.closed = True
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        for outbox in self._outboxes.values():
            outbox.finished = True
            outbox.ready.set()

    # ---- what the client receives ----------------------------------------------------------------------------

    async def take(self, command_id: str | None, timeout: float, budget: int) -> tuple[list[bytes], bool] | None:
        """Wait up to `timeout` seconds for data for the pool (`command_id` None) or a pipeline; return its chunks
        (at most about `budget` bytes) and whether the pipeline is done. None when nothing came in time."""
        key = None if command_id is None else uuid.UUID(command_id)
        outbox = self._outboxes.get(key)
        if outbox is None:
            raise PSRPError(f"no pipeline {command_id}")
        if not outbox.chunks and not outbox.finished:
            outbox.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(outbox.ready.wait(), timeout)
        if not outbox.chunks and not outbox.finished:
            return None
        taken: list[bytes] = []
        size = 0
        while outbox.chunks and (not taken or size + len(outbox.chunks[0]) <= budget):
            chunk = outbox.chunks.pop(0)
            taken.append(chunk)
            size += len(chunk)
        return taken, outbox.finished and not outbox.chunks

    # ---- inside -----------------------------------------------------------------------------------------------

    def _pump(self) -> None:
        """Move what psrpcore has to send into the outbox of its target, and wake the Receive waiting for it."""
        while True:
            payload = self.pool.data_to_send(self.fragment_size)
            if payload is None:
                break
            outbox = self._outboxes.get(payload.pipeline_id)
            if outbox is None:  # a pipeline the client terminated: nobody will ask
                continue
            outbox.chunks.append(payload.data)
            outbox.ready.set()
        for pipeline_id, outbox in self._outboxes.items():
            if pipeline_id is None:
                continue
            pipeline = self.pool.pipeline_table.get(pipeline_id)
            if pipeline is not None and pipeline.state in _FINISHED and pipeline_id not in self._tasks:
                outbox.finished = True
                outbox.ready.set()

    def _on_event(self, event: PSRPEvent) -> None:
        if isinstance(event, CreatePipelineEvent):
            pipeline = self.pool.pipeline_table[event.pipeline_id]
            self._tasks[event.pipeline_id] = asyncio.get_running_loop().create_task(self._run(pipeline))
        elif isinstance(event, (SetMaxRunspacesEvent, SetMinRunspacesEvent, ResetRunspaceStateEvent)):
            self.pool.runspace_availability_response(event.ci, True)
        elif isinstance(event, GetAvailableRunspacesEvent):
            self.pool.runspace_availability_response(event.ci, max(self.pool.max_runspaces, 1))
        # SessionCapability, InitRunspacePool, PublicKey: psrpcore answers them itself. Pipeline input and host
        # responses: the simulated cmdlets take no pipeline input and make no host calls.

    async def _run(self, pipeline: ServerPipeline) -> None:
        pipeline_id = pipeline.pipeline_id
        try:
            # Windows sends no Running state: the client knows its pipeline runs once the Command is answered.
            pipeline._change_state(PSInvocationState.Running, emit=False)
            statements = self._statements(pipeline)
            result = await self.host.run(statements)
            for value in result.output:
                pipeline.write_output(for_remoting(value))
            first = statements[0][0].name if statements and statements[0] else ""
            for info in result.errors:
                pipeline.prepare_message(error_record(info, first), message_type=PSRPMessageType.ErrorRecord)
            pipeline.complete()
        except CmdletFailure as failure:
            self._fail(pipeline, failure.record)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a defect in a cmdlet: the pipeline fails as PowerShell's would, with its message
            log.exception("pipeline %s failed", pipeline_id)
            self._fail(pipeline, ErrorRecordInfo(message=str(exc) or type(exc).__name__, category=0,
                                                 fully_qualified_error_id=type(exc).__name__))
        finally:
            self._tasks.pop(pipeline_id, None)
            if not self.closed:
                self._pump()

    def _fail(self, pipeline: ServerPipeline, info: ErrorRecordInfo) -> None:
        if pipeline.state not in (PSInvocationState.Running, PSInvocationState.Stopping):
            return
        command = ""
        metadata = pipeline.metadata
        if metadata is not None and getattr(metadata, "commands", None):
            command = str(metadata.commands[0].command_text)
        pipeline._change_state(PSInvocationState.Failed, error_record(info, command))

    @staticmethod
    def _statements(pipeline: ServerPipeline) -> list[list[CommandInvocation]]:
        metadata = pipeline.metadata
        commands = list(getattr(metadata, "commands", None) or [])
        if not commands:
            raise CmdletFailure(command_not_found(""))
        statements: list[list[CommandInvocation]] = [[]]
        for command in commands:
            name = str(command.command_text)
            if command.is_script:
                # The simulator runs cmdlets, not PowerShell script: a script is a command nobody knows.
                raise CmdletFailure(command_not_found(name))
            parameters: dict[str, object] = {}
            arguments: list[object] = []
            for parameter_name, value in command.parameters:
                if parameter_name is None:
                    arguments.append(plain(value))
                else:
                    # A named parameter without a value is a switch, as PowerShell binds CommandParameter(name).
                    parameters[str(parameter_name).lstrip("-")] = True if value is None else plain(value)
            statements[-1].append(CommandInvocation(name=name, parameters=parameters, arguments=tuple(arguments)))
            if command.end_of_statement:
                statements.append([])
        return [s for s in statements if s]

