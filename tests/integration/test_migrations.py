"""The packaged Alembic migrations, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from storage import migrate
from storage.database import Database
from storage.migrate import current_revision, ensure_schema, head_revision, upgrade
from storage.tables import Base

PG_SERVER = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

NewDatabase = Callable[[], Awaitable[Database]]


async def _pg_admin(sql: str) -> None:
    """Run one statement on the PostgreSQL server's maintenance database, outside a transaction."""
    engine = create_async_engine(
        PG_SERVER, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5}
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[NewDatabase]:
    """A factory of empty databases of one kind; dropped (PostgreSQL) or deleted afterwards."""
    created: list[tuple[Database, str]] = []

    async def new() -> Database:
        name = f"migrations_{uuid.uuid4().hex[:12]}"
        if request.param == "sqlite":
            database = Database(f"sqlite+aiosqlite:///{tmp_path / name}.db")
        else:
            try:
                await _pg_admin(f'CREATE DATABASE "{name}"')
            except (OSError, SQLAlchemyError) as error:
                message = f"PostgreSQL at {PG_SERVER} is not reachable: {error}"
                if os.environ.get("CI"):
                    pytest.fail(message)
                pytest.skip(message)
            database = Database(PG_SERVER.rsplit("/", 1)[0] + f"/{name}")
        created.append((database, name))
        return database

    yield new
    for database, name in created:
        await database.dispose()
        if request.param == "postgresql":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database(new_database: NewDatabase) -> Database:
    """One empty database."""
    return await new_database()


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _plain(value: Any) -> Any:
    """JSON data: types and SQL expressions (partial-index WHEREs) become their SQL text."""
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _snapshot(connection: Connection) -> dict[str, Any]:
    """Every table as reflected: columns, keys, CHECKs and indexes (with partial WHEREs)."""
    inspector = inspect(connection)
    unordered = {
        "fks": inspector.get_foreign_keys,
        "uniques": inspector.get_unique_constraints,
        "checks": inspector.get_check_constraints,
        "indexes": inspector.get_indexes,
    }
    return {
        table: {
            "columns": _plain(inspector.get_columns(table)),
            "pk": _plain(inspector.get_pk_constraint(table)),
            **{key: sorted(_plain(get(table)), key=json.dumps) for key, get in unordered.items()},
        }
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


async def test_upgrade_empty_database_to_head(database: Database) -> None:
    assert await current_revision(database) is None
    await upgrade(database)
    assert await current_revision(database) == head_revision() == "0001"


async def test_ensure_schema_twice_is_a_no_op(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ensure_schema(database)
    async with database.writer.begin() as connection:
        await connection.execute(text("INSERT INTO reward_stock VALUES ('mug', 3)"))

    async def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("ensure_schema upgraded a database already at head")

    monkeypatch.setattr(migrate, "upgrade", must_not_run)
    await ensure_schema(database)
    assert await current_revision(database) == head_revision()
    async with database.reader.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM reward_stock"))).all()
    assert [tuple(row) for row in rows] == [("mug", 3)]


async def test_concurrent_starts_migrate_once(new_database: NewDatabase) -> None:
    first = await new_database()
    second = Database(first.url)
    try:
        await asyncio.gather(ensure_schema(first), ensure_schema(second))
    finally:
        await second.dispose()
    assert await current_revision(first) == head_revision()


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    # compare_type=True: UTCDateTime and Money are TypeDecorators; Alembic compares their
    # `impl` (DateTime, BigInteger) with the reflected type, so they raise no difference,
    # and neither does `Id` (BigInteger, Integer on SQLite). Nothing needs ignoring.
    await upgrade(database)
    async with database.reader.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_migrated_schema_equals_create_all(new_database: NewDatabase) -> None:
    # compare_metadata skips CHECKs, partial-index WHEREs and autoincrement: compare those by
    # reflecting a migrated database next to one built by `create_all`.
    migrated, created = await new_database(), await new_database()
    await upgrade(migrated)
    async with created.writer.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with migrated.reader.connect() as one, created.reader.connect() as other:
        assert await one.run_sync(_snapshot) == await other.run_sync(_snapshot)


async def test_downgrade_to_base_and_back(database: Database) -> None:
    await upgrade(database)

    def downgrade(connection: Connection) -> list[str]:
        command.downgrade(migrate.alembic_config(connection), "base")
        return inspect(connection).get_table_names()

    async with database.writer.begin() as connection:
        assert await connection.run_sync(downgrade) == ["alembic_version"]
    assert await current_revision(database) is None
    await ensure_schema(database)
    assert await current_revision(database) == head_revision()
