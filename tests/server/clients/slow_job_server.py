"""A management server with one extra, test-only async command whose job waits for a release file.

Run as `python slow_job_server.py DATA_DIR DB_URL PORT MARKER_DIR`: the restart test kills this process while
the job runs and starts another on the same database, to see the job finish (the resumable command) or fail
cleanly (the other one), never hang.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

from clusterstack.server.api.registry import ADMIN, api_command
from clusterstack.server.app import create_app, open_server

SLOW_COMMAND = "slowJobForTest"
RESUMABLE_COMMAND = "slowResumableJobForTest"


def main() -> None:
    data_dir, db_url, port, marker_dir = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])

    def slow_job(ctx: Any, p: dict[str, Any]) -> dict[str, Any]:
        (marker_dir / f"started-{ctx.server.msid}").touch()
        deadline = time.monotonic() + 300
        while not (marker_dir / "release").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("never released")
            time.sleep(0.05)
        return {"success": True}

    for name, resumable in ((SLOW_COMMAND, False), (RESUMABLE_COMMAND, True)):
        api_command(name, description="test only: an async job that waits for a release file", isasync=True,
                    response="success", roles=ADMIN, resumable=resumable)(slow_job)

    state = open_server(data_dir, db_url)
    uvicorn.run(create_app(state), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
