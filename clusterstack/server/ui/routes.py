"""The web console's routes: one page and its ES-module assets under /client/, plus the live channel.

The console is a hand-written ES-module front end shipped inside the package (no build step, nothing
loaded from the internet). Every path under /client/ that is not the API, the live channel or an asset
answers with the same page; the browser-side router draws the view the path names, so each view has
its own URL that can be bookmarked and reloaded.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from clusterstack.server.app import register_routes
from clusterstack.server.state import ServerState

STATIC_DIR = Path(__file__).parent / "static"

# Assets and the page are revalidated on every load (ETag), so an upgraded server is seen at once.
# The policy forbids anything from another origin and any inline script.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class ConsoleAssets(StaticFiles):
    """The console's static files, always revalidated."""

    async def get_response(self, path: str, scope: dict) -> Response:  # type: ignore[override]
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def console_page(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


async def to_console(request: Request) -> Response:
    return RedirectResponse("/client/")


def _live_routes(state: ServerState) -> list[BaseRoute]:
    """The live channel (server-sent events) when its layer is installed."""
    try:
        module = importlib.import_module("clusterstack.server.live.sse")
    except ModuleNotFoundError as exc:
        if exc.name not in ("clusterstack.server.live", "clusterstack.server.live.sse"):
            raise
        return []
    routes: list[BaseRoute] = module.live_routes(state)
    return routes


def console_routes(state: ServerState) -> list[BaseRoute]:
    return [
        *_live_routes(state),
        Mount("/client/static", app=ConsoleAssets(directory=STATIC_DIR), name="console-assets"),
        Route("/client", to_console, methods=["GET"]),
        Route("/client/", console_page, methods=["GET"]),
        Route("/client/{path:path}", console_page, methods=["GET"]),
    ]


register_routes(console_routes)
