"""The packaged Alembic migrations, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from storage import migrate
from storage.aio import create_async_engine
from storage.database import Database
from storage.migrate import current_revision, ensure_schema, head_revision, upgrade
from storage.tables import metadata
from tests import conftest

PG_SERVER = conftest.PG_SERVER.replace("postgresql://", "postgresql+asyncpg://", 1)

NewDatabase = Callable[[], Awaitable[Database]]

# A later revision that rebuilds `members` (copy, DROP, rename on SQLite) under references.
REBUILD_MEMBERS = '''"""Rebuild members."""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "scratch", "{head}", None, None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:  # SQLite: a rebuild; PostgreSQL: ALTER
        batch.alter_column("locale", existing_type=sa.String(16), type_=sa.String(32))
    {extra}


def downgrade() -> None:
    pass
'''
MEMBER = (
    "INSERT INTO members (id, locale, marketing_opt_in, reachable, joined_at, tier) "
    "VALUES (1, 'en', true, true, '2024-01-01 00:00:00', 'base')"
)


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


def _with_revision_2(path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> str:
    """Point `storage.migrate` at a copy of the migrations plus REBUILD_MEMBERS; the old head."""
    shutil.copytree(migrate.MIGRATIONS, path, ignore=shutil.ignore_patterns("__pycache__"))
    script = REBUILD_MEMBERS.format(extra=extra, head=head_revision())
    (path / "versions" / "scratch_rebuild.py").write_text(script)
    monkeypatch.setattr(migrate, "MIGRATIONS", path)
    return script.split('"scratch", "', 1)[1].split('"', 1)[0]


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


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
    assert await current_revision(database) == head_revision()
    assert head_revision() == max(
        p.stem.split("_")[0] for p in (migrate.MIGRATIONS / "versions").glob("0*.py")
    )


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
        await connection.run_sync(metadata.create_all)
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


async def test_rebuilding_a_referenced_table_keeps_rows_and_foreign_keys(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite enforces foreign keys (PRAGMA foreign_keys=ON), so dropping `members` while an
    # account references it fails unless `upgrade` switches them off for the rebuild.
    base = _with_revision_2(tmp_path / "scripts", monkeypatch)
    await upgrade(database, base)
    async with database.writer.begin() as connection:
        await connection.execute(text(MEMBER))
        await connection.execute(text("INSERT INTO accounts VALUES (1, 5)"))
    await upgrade(database)
    assert await current_revision(database) == "scratch"
    async with database.writer.connect() as connection:
        assert (await connection.execute(text("SELECT * FROM accounts"))).all() == [(1, 5)]
        with pytest.raises(IntegrityError):  # enforced again on the pooled connection
            await connection.execute(text("INSERT INTO accounts VALUES (2, 0)"))


async def test_a_revision_leaving_dangling_keys_rolls_back(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orphan = 'op.execute("INSERT INTO accounts VALUES (9, 0)")'
    base = _with_revision_2(tmp_path / "scripts", monkeypatch, orphan)
    await upgrade(database, base)
    with pytest.raises((IntegrityError, RuntimeError), match=r"(?i)foreign key"):
        await upgrade(database)
    assert await current_revision(database) == base
    async with database.reader.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM accounts"))).scalar() == 0


def test_the_head_is_read_as_alembic_reads_it(tmp_path, monkeypatch):
    alembic_head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head_revision() == alembic_head
    _with_revision_2(tmp_path / "scripts", monkeypatch)  # written `a, b = "x", "y"`
    assert head_revision() == "scratch"
    assert ScriptDirectory.from_config(migrate.alembic_config()).get_current_head() == "scratch"


def test_alembic_stays_out_of_the_process_that_ensures_the_schema(tmp_path):
    """Alembic (10 MB) stays out of a bot, whether its database is migrated (in a child
    process) or only checked."""
    ensure = (
        "import asyncio, sys; from storage.database import Database;"
        "from storage.migrate import ensure_schema;"
        f"asyncio.run(ensure_schema(Database('sqlite+aiosqlite:///{tmp_path}/x.db')));"
        "print('alembic' in sys.modules)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", ensure], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["False", "False"]  # the first run migrates; the second only checks


async def test_0012_dates_earlier_receipts_points_by_their_purchase(database: Database) -> None:
    # a receipt recorded on 2024-03-10 for a purchase on 2024-03-01, and one on time
    await upgrade(database, "0011")
    rows = [
        MEMBER,
        "INSERT INTO accounts VALUES (1, 30)",
        *(
            f"INSERT INTO point_transactions (id, member_id, kind, points, created_at) "
            f"VALUES ({n}, 1, 'purchase', {points}, '2024-03-10 12:00:00')"
            for n, points in ((1, 10), (2, 20))
        ),
        *(
            f"INSERT INTO point_lots (id, member_id, transaction_id, points, remaining, "
            f"earned_at, expires_at) VALUES ({n}, 1, {n}, {points}, {points}, "
            f"'2024-03-10 12:00:00', '2025-03-10 12:00:00')"
            for n, points in ((1, 10), (2, 20))
        ),
        *(
            f"INSERT INTO point_entries (id, transaction_id, member_id, lot_id, points) "
            f"VALUES ({n}, {n}, 1, {n}, {points})"
            for n, points in ((1, 10), (2, 20))
        ),
        *(
            f"INSERT INTO purchases (id, merchant, receipt_id, member_id, body_hash, total, "
            f"points_awarded, tier_credits, refunded, points_clawed, credits_clawed, lot_id, "
            f"lines, answer, occurred_at, recorded_at) VALUES ({n}, 'main', 'R-{n}', 1, 'h', "
            f"1000, {points}, 10, 0, 0, 0, {n}, '{{}}', '{{}}', '{occurred}', "
            f"'2024-03-10 12:00:00')"
            for n, points, occurred in (
                (1, 10, "2024-03-01 09:30:00"),
                (2, 20, "2024-03-10 12:00:00"),
            )
        ),
    ]
    async with database.writer.begin() as connection:
        for row in rows:
            await connection.execute(text(row))
    await upgrade(database)
    async with database.reader.connect() as connection:
        dates = (
            await connection.execute(
                text(
                    "SELECT t.id, t.created_at, l.earned_at, l.expires_at FROM "
                    "point_transactions t "
                    "JOIN point_lots l ON l.transaction_id = t.id ORDER BY t.id"
                )
            )
        ).all()
        tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    assert [(n, str(made), str(earned), str(expires)) for n, made, earned, expires in dates] == [
        (1, "2024-03-01 09:30:00", "2024-03-01 09:30:00", "2025-03-10 12:00:00"),
        (2, "2024-03-10 12:00:00", "2024-03-10 12:00:00", "2025-03-10 12:00:00"),
    ]
    assert {"installation_keys", "forgotten_members"} <= tables


async def test_a_failed_migration_in_the_child_is_reported_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "loyalty.db").write_text("not a database")
    with pytest.raises(RuntimeError, match=r"migrating the database failed: .*not a database"):
        await migrate.upgrade_in_child(f"sqlite+aiosqlite:///{tmp_path}/loyalty.db")
