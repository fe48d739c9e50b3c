"""Alembic environment: runs on the connection `storage.migrate` passes in, or on a URL."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.tables import metadata
from storage.types import Money, UTCDateTime

config = context.config
target_metadata = metadata


def render_item(kind: str, obj: Any, autogen: Any) -> str | Literal[False]:
    """Render custom types as their stored types, so migrations never import `storage.types`."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if kind == "type" and isinstance(obj, Money):
        return "sa.BigInteger()"
    return False


def options(dialect: str) -> dict[str, Any]:
    """The `context.configure` options shared by online and offline runs."""
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect == "sqlite",  # SQLite's ALTER TABLE is too weak otherwise
        "compare_type": True,
        "render_item": render_item,
    }


def run_on(connection: Connection) -> None:
    """Run the migrations on a connection (in its transaction, if it has one)."""
    context.configure(connection=connection, **options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    """Run the migrations on a fresh `Database` (a plain fallback: the app uses `migrate`)."""
    database = Database(url)
    try:
        async with database.writer.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await database.dispose()


def run() -> None:
    """Run online with the given connection or URL, or offline (SQL script) with a URL."""
    connection = config.attributes.get("connection")
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        dialect = "sqlite" if url and url.startswith("sqlite") else "postgresql"
        context.configure(url=url, literal_binds=True, **options(dialect))
        with context.begin_transaction():
            context.run_migrations()
    elif connection is not None:
        run_on(connection)
    elif url:
        asyncio.run(run_on_url(url))
    else:
        raise RuntimeError("pass a connection in config.attributes or set sqlalchemy.url")


run()
