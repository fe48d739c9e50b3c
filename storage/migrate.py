"""The schema migrations (Alembic, shipped in `storage/migrations`), run from code.

The app calls `ensure_schema` on start. No alembic.ini is needed: the config is built here.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
PG_LOCK = 0x6C6F79616C7479  # pg_advisory_xact_lock key: one migrator at a time


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations, bound to `connection` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite's foreign key checks, on the DBAPI connection: a BEGIN would void it."""
    cursor = connection.connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


async def upgrade(database: Database, revision: str = "head") -> None:
    """Upgrade the database to `revision`, all in one write transaction."""

    def run(connection: Connection) -> None:
        # Lock before Alembic starts: migrators in other processes wait, and so do those in
        # this one, which matters as Alembic's `op` and `context` are process-wide proxies.
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK})")
        command.upgrade(alembic_config(connection), revision)
        if connection.dialect.name == "sqlite":
            orphans = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if orphans:
                raise RuntimeError(f"migration left rows with dangling foreign keys: {orphans}")

    # SQLite: batch migrations rebuild tables (copy, DROP, rename); with foreign keys on, the
    # DROP of a referenced table fails, so they are off meanwhile and checked at the end
    # (SQLite's documented procedure). `begin()` emits BEGIN IMMEDIATE, which is the lock.
    # Alembic sees the open transaction and runs in it: all revisions commit or none do.
    sqlite = database.dialect == "sqlite"
    async with database.writer.connect() as connection:
        if sqlite:
            await connection.run_sync(_sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                await connection.run_sync(run)
        finally:
            if sqlite:
                await connection.run_sync(_sqlite_foreign_keys, True)


async def current_revision(database: Database) -> str | None:
    """The revision the database is at, or None if it was never migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.reader.connect() as connection:
        return await connection.run_sync(read)


async def ensure_schema(database: Database) -> None:
    """Upgrade to head if the database is empty or behind; a single read when it is current."""
    if await current_revision(database) != head_revision():
        await upgrade(database)
