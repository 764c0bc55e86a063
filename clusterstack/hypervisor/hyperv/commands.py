"""PowerShell commands as data: a cmdlet name and typed parameters, never script text.

A value travels as a typed PSRP parameter (a string stays a string whatever it contains), so no VM name, path
or description can change what runs. The one place a value meets a query language (a WMI filter) escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Switch = bool  # a switch parameter: present when True


@dataclass(frozen=True)
class Cmdlet:
    name: str
    parameters: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, name: str, **parameters: Any) -> Cmdlet:
        """Cmdlet.of("Get-VM", Name="x", ComputerName=["n1"]); None values are left out, a switch is True."""
        return cls(name, tuple((k, v) for k, v in parameters.items() if v is not None and v is not False))


@dataclass(frozen=True)
class Pipeline:
    """Statements run one after another in one round trip; each statement pipes its cmdlets together."""

    statements: tuple[tuple[Cmdlet, ...], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, *cmdlets: Cmdlet) -> Pipeline:
        return cls((tuple(cmdlets),))

    @classmethod
    def each(cls, cmdlets: list[Cmdlet]) -> Pipeline:
        """One statement per cmdlet (a batch of independent reads in one round trip)."""
        return cls(tuple((c,) for c in cmdlets))

    def describe(self) -> str:
        """For logs and error messages: the cmdlet names only (values may be long; none are secret)."""
        return "; ".join(" | ".join(c.name for c in statement) for statement in self.statements)


def wql_string(value: str) -> str:
    """A WQL string literal: backslash and single quote escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
