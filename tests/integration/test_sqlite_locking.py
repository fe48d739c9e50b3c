"""SQLite's busy timeout bounds a writer's whole wait, and a refused writer leaves nothing
checked out; a read-only file or directory is refused at start in one line."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.cli import main
from storage.database import Database
from storage.repositories.pacing import SqlSlots
from storage.tables import metadata
from storage.uow import SqlUnitOfWork

TIMEOUT = 1.0


async def test_queued_writers_behind_a_foreign_lock_each_wait_one_timeout_in_all(tmp_path):
    path = tmp_path / "locked.db"
    database = Database(f"sqlite+aiosqlite:///{path}", busy_timeout=TIMEOUT)
    async with database.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
    holder = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
    holder.execute("BEGIN IMMEDIATE")

    async def write() -> tuple[float, BaseException | None]:
        started = time.monotonic()
        try:
            async with SqlUnitOfWork(database) as uow:
                await uow.members.by_telegram_id(1)
        except OperationalError as error:
            return time.monotonic() - started, error
        return time.monotonic() - started, None

    try:
        outcomes = await asyncio.gather(*(write() for _ in range(4)))  # queued one behind another
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for waited, error in outcomes:
        assert error is not None
        assert "database is locked: no write lock within 1 s" in str(error)
        assert waited < 3 * TIMEOUT  # before: 1, 2, 3 then 4 timeouts, each after the last
    assert database.writer.pool.checkedout() == 0  # before: a connection leaked per refusal
    async with SqlUnitOfWork(database) as uow:  # the lock is free: writing works again
        assert await uow.members.by_telegram_id(1) is None
    await database.dispose()


async def test_the_shared_pace_waits_for_the_write_lock_within_the_timeout_too(tmp_path):
    path = tmp_path / "paced.db"
    database = Database(f"sqlite+aiosqlite:///{path}", busy_timeout=TIMEOUT)
    async with database.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
    slots = SqlSlots(database)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        outcomes = await asyncio.gather(
            *(slots.reserve(0.04, 100.0) for _ in range(4)), return_exceptions=True
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for outcome in outcomes:  # before: no bound on the queue, and an unshaped lock error
        assert isinstance(outcome, OperationalError)
        assert "no write lock within 1 s" in str(outcome)
    assert database.writer.pool.checkedout() == 0
    assert await slots.reserve(0.04, 100.0) == 100.0  # free again: the first slot is now
    await database.dispose()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` read-only even for root (who ignores permission bits): immutable while inside."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if (
        chattr is None
        or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0
    ):
        pytest.skip("running as root where chattr +i is not available: nothing is read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_database_file_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "loyalty.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    with read_only(path):
        assert main(["maintenance"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"loyalty-bot: setting DATABASE_URL: cannot write the SQLite file {path}")
    assert len(err.splitlines()) == 1


# aiosqlite's worker thread, after a connect that failed, may answer a loop already closed
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_read_only_directory_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{folder}/loyalty.db")
    with read_only(folder):
        assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"loyalty-bot: setting DATABASE_URL: cannot create the SQLite file "
        f"{folder}/loyalty.db: the directory {folder} is not writable\n"
    )


def test_a_missing_directory_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/nowhere/loyalty.db")
    assert main(["api-token", "list"]) == 2
    assert capsys.readouterr().err == (
        f"loyalty-bot: setting DATABASE_URL: the directory "
        f"{tmp_path}/nowhere of the SQLite file does not exist\n"
    )
