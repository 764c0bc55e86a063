"""Alembic environment: runs on the engine handed over by clusterstack.server.db.schema."""

from __future__ import annotations

from alembic import context

from clusterstack.server.db.models import load_all

target_metadata = load_all().metadata
config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through `clusterstack db upgrade`")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
