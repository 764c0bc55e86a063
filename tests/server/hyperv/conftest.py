"""The Hyper-V integration suite runs twice: with the simulator's JSON driver (http) and with the PowerShell-
remoting driver (winrm) against the same simulated cluster answering WinRM, as a Windows cluster would."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(params=["http", "winrm"])
def simulator(request: pytest.FixtureRequest, simulator_factory: Any) -> Any:
    """The seed's failover cluster CI1 at 10x speed, reached through the driver named by the parameter."""
    return simulator_factory(speed=10.0, winrm=request.param == "winrm")
