"""GET /client/live: the live channel as server-sent events (text/event-stream).

The caller is a login session: `sessionkey` as a query parameter (EventSource cannot send headers) and the
JSESSIONID cookie of the same session; anything else is answered 401 with the API's error envelope. The stream
then says, in this order and format:

    retry: 2000                 (with the hello) reconnect 2 s after a lost connection
    event: hello                once: {"time": <server time>, "keepalive": 15}; refresh what you show
    event: change               {"topics": [...], "jobs": [...]} whenever something you may see changed
    : keepalive                 a comment every 15 s (the session is checked again each time)
    event: goodbye              {"reason": "shutdown" | "session"} just before the server ends the stream

A change names topics only, never data; "jobs" holds the ids of the caller's account's async jobs that
finished. Every topic name is in changes.py.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from clusterstack.server.api import errors
from clusterstack.server.api.responses import error_payload, format_date, render_json
from clusterstack.server.live import uvicorn_shutdown
from clusterstack.server.live.feed import LiveFeed, Subscription
from clusterstack.server.live.viewer import authenticate
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.live")

PATH = "/client/live"
RETRY_MS = 2000
KEEPALIVE_SECONDS = 15.0
READY_TIMEOUT = 10.0  # wait at most this long for the feed's first read before saying hello
SESSION_COOKIE = "JSESSIONID"


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class EventStream(Response):
    """The stream of one subscription; it ends when the client goes, the session ends or the server stops."""

    media_type = "text/event-stream"

    def __init__(self, state: ServerState, feed: LiveFeed, subscription: Subscription, session_key: str,
                 session_id: str) -> None:
        # not Response.__init__: it would render an empty body and announce it with content-length: 0
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.state = state
        self.feed = feed
        self.subscription = subscription
        self.session_key = session_key
        self.session_id = session_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as group:
                group.start_soon(self._watch_disconnect, receive, group.cancel_scope)
                await self._stream(send)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        except OSError:  # the client went away while we wrote (uvicorn's ClientDisconnected)
            pass
        finally:
            self.feed.unsubscribe(self.subscription)

    @staticmethod
    async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    async def _stream(self, send: Send) -> None:
        async def write(chunk: bytes) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        subscription = self.subscription
        await subscription.wait_ready(READY_TIMEOUT)
        hello = {"time": format_date(datetime.now(UTC)), "keepalive": int(KEEPALIVE_SECONDS)}
        await write(f"retry: {RETRY_MS}\n".encode() + _event("hello", hello))
        next_keepalive = time.monotonic() + KEEPALIVE_SECONDS
        while not subscription.closed:
            await subscription.wait(next_keepalive - time.monotonic())
            topics, jobs = subscription.take()
            if topics or jobs:
                await write(_event("change", {"topics": topics, "jobs": jobs}))
            if subscription.closed:
                await write(_event("goodbye", {"reason": "shutdown"}))
                return
            if time.monotonic() >= next_keepalive:
                try:
                    viewer = await anyio.to_thread.run_sync(
                        lambda: authenticate(self.state, self.session_key, self.session_id, touch=False))
                except Exception:  # the database is away for a moment: check again at the next keepalive
                    log.warning("checking a live channel's session failed", exc_info=True)
                    viewer = subscription.viewer
                if viewer is None:
                    await write(_event("goodbye", {"reason": "session"}))
                    return
                subscription.viewer = viewer  # a domain admin's domains may have changed
                await write(b": keepalive\n\n")
                next_keepalive = time.monotonic() + KEEPALIVE_SECONDS
        await write(_event("goodbye", {"reason": "shutdown"}))


def _refusal(status: int, error: errors.ApiError) -> Response:
    body = render_json("error", error_payload(status, error.cserrorcode, error.text))
    return Response(body, status_code=status, media_type="application/json;charset=UTF-8")


def live_routes(state: ServerState) -> list[BaseRoute]:
    """The live channel's route, for the console to mount."""
    uvicorn_shutdown.install()

    async def live(request: Request) -> Response:
        session_key = request.query_params.get("sessionkey")
        session_id = request.cookies.get(SESSION_COOKIE)
        viewer = await anyio.to_thread.run_sync(lambda: authenticate(state, session_key, session_id))
        if viewer is None or session_key is None or session_id is None:
            return _refusal(401, errors.unauthorized("unable to verify user credentials: log in, and give the "
                                                     "sessionkey of the session the JSESSIONID cookie names"))
        feed = state.services.get("live")
        if not isinstance(feed, LiveFeed):
            return _refusal(503, errors.internal_error("the live channel is not running on this server"))
        return EventStream(state, feed, feed.subscribe(viewer), session_key, session_id)

    return [Route(PATH, live, methods=["GET"], name="live")]
