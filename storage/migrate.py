"""The schema migrations (Alembic, shipped in `storage/migrations`), run from code.

The app calls `ensure_schema` on start. No alembic.ini is needed: the config is built here.
Alembic itself (about 10 MB with Mako) is imported only to migrate, and the app migrates in
a child process: checking that a database is current reads the revision files' names with
`ast` and the version table with one query.
"""

from __future__ import annotations

import ast
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.locks import MIGRATION_LOCK

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATE_URL = "LOYALTY_MIGRATE_URL"  # the database `python -m storage.migrate` upgrades


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations, bound to `connection` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this code: the one no other revision follows."""
    follows = dict(_revision_names(path) for path in (MIGRATIONS / "versions").glob("*.py"))
    heads = set(follows) - set(follows.values())
    if len(heads) != 1:
        raise RuntimeError(f"want one head revision in {MIGRATIONS}, found {sorted(heads)}")
    return heads.pop()


def _revision_names(path: Path) -> tuple[str, str | None]:
    """A revision file's `revision` and `down_revision`, read without running it."""
    names = {
        name: ast.literal_eval(value)
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        for name, value in _assignments(node)
        if name in ("revision", "down_revision")
    }
    revision, down = names.get("revision"), names.get("down_revision")
    if not isinstance(revision, str) or not isinstance(down, str | None):
        raise RuntimeError(f"{path.name}: no plain revision and down_revision")
    return revision, down


def _assignments(node: ast.stmt) -> list[tuple[str, ast.expr]]:
    """(name, value) of a module-level `x = v`, `x: T = v` or `x, y = v, w`."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return [(node.target.id, node.value)]
    if not isinstance(node, ast.Assign):
        return []
    pairs: list[tuple[str, ast.expr]] = []
    for target in node.targets:
        if isinstance(target, ast.Name):
            pairs.append((target.id, node.value))
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            pairs += [
                (t.id, v)
                for t, v in zip(target.elts, node.value.elts, strict=True)
                if isinstance(t, ast.Name)
            ]
    return pairs


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite's foreign key checks, on the DBAPI connection: a BEGIN would void it."""
    cursor = connection.connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


async def upgrade(database: Database, revision: str = "head") -> None:
    """Upgrade the database to `revision`, all in one write transaction."""

    def run(connection: Connection) -> None:
        from alembic import command

        # Lock before Alembic starts: migrators in other processes wait, and so do those in
        # this one, which matters as Alembic's `op` and `context` are process-wide proxies.
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
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
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    async with database.reader.connect() as connection:
        return await connection.run_sync(read)


async def ensure_schema(database: Database) -> None:
    """Upgrade to head if the database is empty or behind; a single read when it is current.

    The upgrade runs in a child process, so Alembic and Mako never stay in the memory of
    the long-running bot that asked for it.
    """
    if await current_revision(database) != head_revision():
        await upgrade_in_child(database.url)


async def upgrade_in_child(url: str) -> None:
    """`upgrade` to head in a short-lived `python -m storage.migrate` (the URL passed in its
    environment, not its arguments, which `ps` shows); RuntimeError with the child's last
    line of output if it fails. Cancelled, the child is killed: its transaction rolls back."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.migrate",
        env={**os.environ, MIGRATE_URL: url},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await child.communicate()
    except asyncio.CancelledError:
        child.kill()
        await child.wait()
        raise
    if child.returncode != 0:
        lines = output.decode(errors="replace").strip().splitlines() or [
            f"exit status {child.returncode}"
        ]
        raise RuntimeError(
            f"migrating the database failed: {lines[-1]} (`loyalty-bot db "
            "upgrade` shows the details)"
        )


async def _upgrade_at(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


if __name__ == "__main__":
    try:
        asyncio.run(_upgrade_at(os.environ[MIGRATE_URL]))
    except Exception as error:  # the parent reports this one line
        sys.exit(f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
