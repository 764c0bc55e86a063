"""The HTTP face of the API: GET and form POST on /client/api, JSON or XML, status = errorcode."""

from __future__ import annotations

import logging

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from clusterstack.server.api.dispatch import ApiAnswer, Dispatcher
from clusterstack.server.api.errors import CS_SERVER_API
from clusterstack.server.api.responses import error_payload, render_json, render_xml

SESSION_COOKIES = ("JSESSIONID", "sessionkey")
# API calls run on worker threads, at most this many at once. More only adds contention: the work is mostly
# Python under one GIL, and past the database pool's size each extra thread opens and closes its own
# connection. Requests beyond the limit wait their turn in arrival order.
DISPATCH_THREADS = 16
# The status logged for a request whose client went away before sending its whole body (nginx's 499): the
# answer reaches nobody, and nothing was run.
CLIENT_CLOSED_REQUEST = 499

log = logging.getLogger("clusterstack.server.api")


async def _request_params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, value)
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, str):
                    params.setdefault(key, value)
    return params


def render(answer: ApiAnswer, response_format: str) -> Response:
    if response_format == "json":
        body, media_type = render_json(answer.command, answer.payload), "application/json;charset=UTF-8"
    else:
        body, media_type = render_xml(answer.command, answer.payload), "text/xml;charset=UTF-8"
    response = Response(body, status_code=answer.status, media_type=media_type)
    for name, value in answer.cookies.items():
        response.set_cookie(name, value, path="/client", httponly=name == "JSESSIONID", samesite="lax")
    for name in answer.clear_cookies:
        response.delete_cookie(name, path="/client")
    return response


def api_endpoint(dispatcher: Dispatcher, threads: int = DISPATCH_THREADS):  # type: ignore[no-untyped-def]
    limiter: list[anyio.CapacityLimiter] = []

    async def endpoint(request: Request) -> Response:
        try:
            params = await _request_params(request)
        except ClientDisconnect:
            client = request.client.host if request.client else "unknown"
            log.info("client %s disconnected before its request body was complete; nothing was run", client)
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        headers = {k.lower(): v for k, v in request.headers.items()}
        cookies = dict(request.cookies)
        if not limiter:
            limiter.append(anyio.CapacityLimiter(threads))
        source = request.client.host if request.client else ""
        answer = await anyio.to_thread.run_sync(dispatcher.handle, params, headers, cookies, source,
                                                limiter=limiter[0])
        response_format = next((v for k, v in params.items() if k.lower() == "response"), "xml").lower()
        return render(answer, response_format)

    return endpoint


API_PATHS = ("/client/api", "/client/api/")
# Parameters only a CloudStack API request carries (a console page's own query never has them).
_API_MARKERS = ("command",)
_CLIENT_MARKERS = ("apikey", "sessionkey", "signature", "response")


def misplaced_api_request(path: str, query: dict[str, str]) -> bool:
    """A CloudStack client pointed at the server's root (or the console) instead of /client/api."""
    keys = {k.lower() for k in query}
    return path not in API_PATHS and all(m in keys for m in _API_MARKERS) and any(m in keys for m in _CLIENT_MARKERS)


class MisplacedApiRequests:
    """ASGI middleware: a CloudStack client pointed at http://host:8080 instead of .../client/api gets an API error
    saying so, not the console's HTML (which a client reports as an unreadable answer). Everything else passes
    through untouched (plain ASGI: no buffering of streamed answers such as the console's live channel)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            request = Request(scope)
            if misplaced_api_request(request.url.path, dict(request.query_params)):
                await misplaced_api_answer(request)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def misplaced_api_answer(request: Request) -> Response:
    """CloudStack's error envelope, 404, naming the address the client should have used."""
    base = str(request.base_url).rstrip("/")
    command = next((v for k, v in request.query_params.items() if k.lower() == "command"), "")
    text = (f"{request.url.path} is not the CloudStack API: send API requests to {base}/client/api "
            f"(the console is at {base}/client/)")
    answer = ApiAnswer(404, command or "error", error_payload(404, CS_SERVER_API, text))
    response_format = next((v for k, v in request.query_params.items() if k.lower() == "response"), "xml").lower()
    return render(answer, response_format)
