"""Ending live streams when uvicorn shuts down.

uvicorn stops in this order: stop accepting, wait until every open response has finished, then run the
application's lifespan shutdown (which stops services). An event stream never finishes by itself, so without
help a server with an open console would wait forever ("Waiting for connections to close"), whether it was
stopped by a signal or by setting `should_exit` (as the tests and the demo do). uvicorn offers no hook before
that wait, so Server.shutdown is wrapped once per process: before it waits, the live feed of the application
that server runs (app.state.server.services["live"]) ends its streams. Servers of other applications in the
same process (the simulator, a second management server) are left alone.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger("clusterstack.server.live")

_MARK = "_clusterstack_ends_live_streams"


def _applications(config: Any) -> list[Any]:
    """The application a uvicorn Config runs, and whatever wraps it (uvicorn adds middleware around it)."""
    found: list[Any] = []
    for start in (getattr(config, "app", None), getattr(config, "loaded_app", None)):
        app, depth = start, 0
        while app is not None and depth < 8 and not isinstance(app, str):
            found.append(app)
            app, depth = getattr(app, "app", None), depth + 1
    return found


def end_streams_of(config: Any) -> None:
    for app in _applications(config):
        server_state = getattr(getattr(app, "state", None), "server", None)
        services = getattr(server_state, "services", None)
        feed = services.get("live") if isinstance(services, dict) else None
        end_streams = getattr(feed, "end_streams", None)
        if callable(end_streams):
            end_streams()
            return


def install() -> None:
    """Wrap uvicorn.Server.shutdown (once) so that live streams end before uvicorn waits for responses."""
    try:
        from uvicorn import Server
    except ImportError:  # served by another ASGI server: its own graceful-shutdown timeout applies
        return
    original = getattr(Server, "shutdown", None)
    if original is None or getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    async def shutdown(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            end_streams_of(self.config)
        except Exception:
            log.exception("ending live streams at shutdown failed")
        await original(self, *args, **kwargs)

    setattr(shutdown, _MARK, True)
    Server.shutdown = shutdown  # type: ignore[method-assign]
