"""Building and running the management server: database, schema, services, HTTP routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clusterstack.server.api.dispatch import Dispatcher
from clusterstack.server.api.http import MisplacedApiRequests, api_endpoint
from clusterstack.server.api.registry import load_commands
from clusterstack.server.db.engine import Database, default_url
from clusterstack.server.db.schema import upgrade
from clusterstack.server.metrics import DB_POOL_CHECKED_OUT, DB_POOL_SIZE, REGISTRY
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server")

# Services started with the server, in order: each is a callable (ServerState) -> object with start()/stop(),
# stored in state.services under its name. Layers add theirs with `register_service`.
_SERVICE_FACTORIES: list[tuple[str, Callable[[ServerState], Any]]] = []
# Extra routes (the console, live channels) contributed by other layers.
_ROUTE_FACTORIES: list[Callable[[ServerState], list[BaseRoute]]] = []


def register_service(name: str, factory: Callable[[ServerState], Any]) -> None:
    if all(existing != name for existing, _ in _SERVICE_FACTORIES):
        _SERVICE_FACTORIES.append((name, factory))


def register_routes(factory: Callable[[ServerState], list[BaseRoute]]) -> None:
    if factory not in _ROUTE_FACTORIES:
        _ROUTE_FACTORIES.append(factory)


def _load_layers() -> None:
    """Import the modules that register services and routes (kept here so the order is explicit)."""
    import importlib

    for module in ("clusterstack.server.identity.bootstrap", "clusterstack.server.jobs.service",
                   "clusterstack.server.orchestration.services", "clusterstack.server.ui.routes"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def open_server(data_dir: Path, db_url: str | None = None, *, migrate: bool = True) -> ServerState:
    """The database (schema upgraded) and state of a management server, services not yet started."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(db_url or default_url(data_dir))
    if migrate:
        upgrade(database)
    load_commands()
    _load_layers()
    return ServerState(database=database, data_dir=data_dir)


def start_services(state: ServerState) -> None:
    for name, factory in _SERVICE_FACTORIES:
        service = factory(state)
        state.services[name] = service
        start = getattr(service, "start", None)
        if start is not None:
            start()


def stop_services(state: ServerState) -> None:
    for name, _ in reversed(_SERVICE_FACTORIES):
        service = state.services.pop(name, None)
        stop = getattr(service, "stop", None)
        if stop is not None:
            try:
                stop()
            except Exception:
                log.exception("stopping service %s failed", name)


async def metrics_endpoint(request: Request) -> Response:
    state: ServerState = request.app.state.server
    pool = state.database.engine.pool
    checked_out = getattr(pool, "checkedout", None)
    size = getattr(pool, "size", None)
    if callable(checked_out):
        DB_POOL_CHECKED_OUT.set(checked_out())
    if callable(size):
        DB_POOL_SIZE.set(size())
    jobs = state.services.get("jobs")
    if jobs is not None and hasattr(jobs, "update_metrics"):
        jobs.update_metrics()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def create_app(state: ServerState, *, manage_services: bool = True) -> Starlette:
    """The ASGI app. With manage_services, services start and stop with the app's lifespan."""
    dispatcher = Dispatcher(state)
    endpoint = api_endpoint(dispatcher)
    routes: list[BaseRoute] = [
        Route("/client/api", endpoint, methods=["GET", "POST"]),
        Route("/client/api/", endpoint, methods=["GET", "POST"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    for factory in _ROUTE_FACTORIES:
        routes.extend(factory(state))
    if not any(getattr(r, "path", "") == "/" for r in routes):
        routes.append(Route("/", lambda request: RedirectResponse("/client/"), methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_services:
            start_services(state)
        try:
            yield
        finally:
            if manage_services:
                stop_services(state)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.server = state

    app.add_middleware(MisplacedApiRequests)
    return app
