"""API calls run on a bounded set of worker threads: concurrent requests beyond it wait, none fail."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wire_client import ApiCaller

from clusterstack.server.api.http import DISPATCH_THREADS
from clusterstack.server.api.registry import ADMIN, api_command, find_command

PROBE = "concurrencyProbeForTest"
_lock = threading.Lock()
_state = {"active": 0, "peak": 0}


def _register_probe() -> None:
    if find_command(PROBE) is None:

        @api_command(PROBE, description="test only: records how many calls run at once", response="success",
                     roles=ADMIN)
        def probe(ctx: Any, p: dict[str, Any]) -> dict[str, Any]:
            with _lock:
                _state["active"] += 1
                _state["peak"] = max(_state["peak"], _state["active"])
            time.sleep(0.05)
            with _lock:
                _state["active"] -= 1
            return {"success": True}


def test_concurrent_calls_are_bounded_and_all_answered(api: ApiCaller) -> None:
    _register_probe()
    _state.update(active=0, peak=0)
    requests = DISPATCH_THREADS * 3
    with ThreadPoolExecutor(max_workers=requests) as pool:
        statuses = list(pool.map(lambda _: api.get(PROBE).status_code, range(requests)))
    assert statuses == [200] * requests
    assert 1 < _state["peak"] <= DISPATCH_THREADS
