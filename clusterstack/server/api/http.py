"""The HTTP face of the API: GET and form POST on /client/api, JSON or XML, status = errorcode."""

from __future__ import annotations

import logging

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from clusterstack.server.api.dispatch import ApiAnswer, Dispatcher
from clusterstack.server.api.responses import render_json, render_xml

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
