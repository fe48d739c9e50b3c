"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, and the program.

PostgreSQL tests skip with the reason when the server is unreachable, unless CI is set:
then they fail, so CI can never pass without them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from domain.codes import ALPHABET
from domain.program import Program
from domain.program_file import default_program_path, load_program
from domain.services import members as member_service
from storage.database import Database
from storage.tables import metadata
from storage.uow import SqlUnitOfWork

PG_SERVER = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


async def _pg_admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_SERVER, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run set-up code to completion on its own loop, even when a test loop is running."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def _pg_unreachable() -> str | None:
    try:
        _run(_pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL not reachable at {PG_SERVER}: {error}"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, with the schema created."""
    require_postgres()
    name = f"loyalty_test_{os.getpid()}"
    _run(_pg_admin(f"DROP DATABASE IF EXISTS {name}"))
    _run(_pg_admin(f"CREATE DATABASE {name}"))
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"

    async def create() -> None:
        database = Database(url)
        async with database.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await database.dispose()

    _run(create())
    yield url
    _run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _empty_postgres(url: str) -> Database:
    database = Database(url)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    async with database.writer.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> AsyncIterator[Database]:
    """An empty database with the current schema, on each engine."""
    if request.param == "postgresql":
        db = await _empty_postgres(request.getfixturevalue("postgres_url"))
    else:
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/loyalty.db")
        async with db.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
    yield db
    await db.dispose()


@pytest.fixture
def uow(database: Database) -> SqlUnitOfWork:
    """A unit of work on the test database."""
    return SqlUnitOfWork(database)


@pytest.fixture(scope="session")
def program() -> Program:
    """The bundled example program."""
    return load_program(default_program_path())


def require_postgres() -> None:
    """Skip (or, under CI, fail) when PostgreSQL cannot be reached."""
    reason = _pg_unreachable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so PostgreSQL tests must run: {reason}")
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """The URL of a database with no schema at all, on each engine."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/empty.db"
        return
    require_postgres()
    name = f"loyalty_empty_{os.getpid()}"
    _run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    _run(_pg_admin(f"CREATE DATABASE {name}"))
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    _run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def fresh_codes(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Restart member codes from a counter, so both databases give members the same codes."""

    def restart() -> None:
        counter = itertools.count(1)

        def next_code(length: int) -> str:
            number, digits = next(counter), ["K"]  # a letter: an import reads digits as an id
            for _ in range(length - 1):
                number, digit = divmod(number, len(ALPHABET))
                digits.append(ALPHABET[digit])
            return "".join(digits)

        monkeypatch.setattr(member_service, "new_code", next_code)

    return restart
