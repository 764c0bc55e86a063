"""Get-WinEvent over each node's own event logs (SimulatedCluster.event_logs): `System` (FailoverClustering)
and `Microsoft-Windows-Hyper-V-VMMS-Admin`, each numbering its records from 1 on each node."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from psrpcore.types import ErrorCategory

from clusterstack.failover.log import LogEntry
from clusterstack.simulator.winrm.cmdlets import objects
from clusterstack.simulator.winrm.cmdlets.binding import Call, Param, cmdlet
from clusterstack.simulator.winrm.cmdlets.objects import build, byte, i32, i64

LOGS = ("System", "Microsoft-Windows-Hyper-V-VMMS-Admin")
LEVELS = {"Critical": 1, "Error": 2, "Warning": 3, "Information": 4, "Verbose": 5}
PROVIDER_IDS = {"Microsoft-Windows-FailoverClustering": "baf908ea-3421-4ca9-9b84-6689b8c6f85f",
                "Microsoft-Windows-Hyper-V-VMMS": "6066f867-7ca1-4418-85fd-36e3f9c0600c"}
COMMAND = "Microsoft.PowerShell.Commands.GetWinEventCommand"
Record = tuple[int, float, LogEntry]


class InvalidQuery(Exception):
    pass


# ---- the XPath subset event queries use ------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+)|(and|or)\b|(<=|>=|!=|=|<|>)|([()\[\]*])|(@?[A-Za-z][\w-]*)|('[^']*'|\"[^\"]*\"))",
                    re.IGNORECASE)
_FIELDS: dict[str, Callable[[Record], Any]] = {
    "eventrecordid": lambda r: r[0], "eventid": lambda r: r[2].id, "level": lambda r: LEVELS.get(r[2].level, 4),
}
_COMPARE = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise InvalidQuery(text)
        out.append(match.group(0).strip())
        pos = match.end()
    return [t for t in out if t]


class _Parser:
    """`*[System[<condition>]]` where a condition compares EventRecordID, EventID or Level with a number, tests
    Provider[@Name='...'], and combines with and/or and parentheses."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.lower() != expected.lower()):
            raise InvalidQuery(expected or "")
        self.pos += 1
        return token

    def query(self) -> Callable[[Record], bool]:
        if self.peek() == "*":
            self.take()
        self.take("[")
        self.take("System")
        self.take("[")
        condition = self.disjunction()
        self.take("]")
        self.take("]")
        if self.peek() is not None:
            raise InvalidQuery("trailing text")
        return condition

    def disjunction(self) -> Callable[[Record], bool]:
        parts = [self.conjunction()]
        while (self.peek() or "").lower() == "or":
            self.take()
            parts.append(self.conjunction())
        return lambda r: any(p(r) for p in parts)

    def conjunction(self) -> Callable[[Record], bool]:
        parts = [self.atom()]
        while (self.peek() or "").lower() == "and":
            self.take()
            parts.append(self.atom())
        return lambda r: all(p(r) for p in parts)

    def atom(self) -> Callable[[Record], bool]:
        token = self.take()
        if token == "(":
            inner = self.disjunction()
            self.take(")")
            return inner
        if token.lower() == "provider":
            self.take("[")
            self.take("@Name")
            self.take("=")
            name = self.take()[1:-1]
            self.take("]")
            return lambda r: r[2].source.lower() == name.lower()
        field = _FIELDS.get(token.lower())
        if field is None:
            raise InvalidQuery(token)
        op = self.take()
        if op not in _COMPARE:
            raise InvalidQuery(op)
        number = self.take()
        if not number.isdigit():
            raise InvalidQuery(number)
        compare, value = _COMPARE[op], int(number)
        return lambda r: compare(field(r), value)


def parse_filter(text: str) -> Callable[[Record], bool]:
    return _Parser(text).query()


# ---- the cmdlet --------------------------------------------------------------------------------------------------


def record_object(sim: Any, node: str, log: str, record: Record) -> Any:
    record_id, at, entry = record
    level = LEVELS.get(entry.level, 4)
    return build(objects.EventLogRecord, "System.Diagnostics.Eventing.Reader.EventLogRecord", Id=i32(entry.id),
                 Version=byte(0), Qualifiers=None, Level=byte(level), Task=i32(0), Opcode=i32(0),
                 Keywords=i64(-9223372036854775808), RecordId=i64(record_id), ProviderName=entry.source,
                 ProviderId=uuid.UUID(PROVIDER_IDS.get(entry.source, "00000000-0000-0000-0000-000000000000")),
                 LogName=log, ProcessId=i32(0), ThreadId=i32(0), MachineName=f"{node}.clusterstack.local",
                 UserId=None, TimeCreated=sim.clock.timestamp(at), ActivityId=None, RelatedActivityId=None,
                 ContainerLog=log, MatchedQueryIds=[], Bookmark=None,
                 LevelDisplayName=entry.level if entry.level in LEVELS else "Information", OpcodeDisplayName="Info",
                 TaskDisplayName=None, KeywordsDisplayNames=[], Properties=[], Message=entry.message)


@cmdlet("Get-WinEvent", COMMAND, "Microsoft.PowerShell.Diagnostics",
        Param("LogName", "str[]", position=0), Param("FilterXPath", "str"), Param("MaxEvents", "int64"),
        Param("Oldest", "switch"), Param("ComputerName", "str", aliases=("Cn",)), Param("ProviderName", "str[]"),
        Param("ListLog", "str[]"), Param("Force", "switch"), Param("Credential", "object"))
async def get_win_event(call: Call) -> None:
    sim = call.sim
    computer = call.get("ComputerName")
    node = call.session.node
    if computer is not None:
        found = call.session.node_of(computer)
        if found is None or not sim.cluster.nodes[found].alive:
            raise call.fail(call.record("The RPC server is unavailable", ErrorCategory.NotSpecified,
                                        "System.Diagnostics.Eventing.Reader.EventLogException",
                                        "System.Diagnostics.Eventing.Reader.EventLogException", computer))
        node = found
    if call.has("MaxEvents") and call.get("MaxEvents") <= 0:
        raise call.fail(call.record(f"Cannot validate argument on parameter 'MaxEvents'. The {call.get('MaxEvents')} "
                                    "argument is less than the minimum allowed range of 1. Supply an argument that "
                                    "is greater than or equal to 1 and then try the command again.",
                                    ErrorCategory.InvalidData, "ParameterArgumentValidationError",
                                    "System.Management.Automation.ParameterBindingValidationException"))
    condition: Callable[[Record], bool] = lambda r: True  # noqa: E731
    if call.get("FilterXPath"):
        try:
            condition = parse_filter(call.get("FilterXPath"))
        except InvalidQuery:
            raise call.fail(call.record("The specified query is invalid", ErrorCategory.NotSpecified,
                                        "System.Diagnostics.Eventing.Reader.EventLogException",
                                        "System.Diagnostics.Eventing.Reader.EventLogException")) from None
    where = "localhost" if computer is None else computer
    selected: list[tuple[str, Record]] = []
    any_log = False
    for given in call.get("LogName") or ["*"]:
        pattern = re.compile("^" + re.escape(given).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.IGNORECASE)
        logs = [log for log in LOGS if pattern.match(log)]
        if not logs:
            call.error(call.record(f"There is not an event log on the {where} computer that matches \"{given}\".",
                                   ErrorCategory.ObjectNotFound, "NoMatchingLogsFound", "System.Exception", given))
            continue
        any_log = True
        for log in logs:
            selected += [(log, r) for r in sim.event_logs.get((node, log), []) if condition(r)]
    if not selected and any_log:
        call.error(call.record("No events were found that match the specified selection criteria.",
                               ErrorCategory.ObjectNotFound, "NoMatchingEventsFound", "System.Exception"))
        return
    selected.sort(key=lambda item: (item[1][1], item[1][0]), reverse=not call.get("Oldest"))
    if call.has("MaxEvents"):
        selected = selected[:call.get("MaxEvents")]
    for log, record in selected:
        call.emit(record_object(sim, node, log, record))
