"""PostgreSQL units of work take turns (PG_TURNS at once) and keep their connections: a
burst of reads and writes all finish, never more than PG_TURNS hold a connection, the
connections are kept for the next ones, and a unit that gets no turn in time is refused."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage import database as database_module
from storage.database import PG_TURNS, Database
from storage.uow import SqlUnitOfWork


async def test_a_burst_takes_turns_and_keeps_its_connections(postgres_url: str) -> None:
    database = Database(postgres_url)
    busy = most = 0

    async def unit(write: bool) -> int:
        nonlocal busy, most
        conn = await database.begin(write)
        busy += 1
        most = max(most, busy)
        try:
            value = (await conn.execute(text("SELECT 1"))).scalar_one()
            await asyncio.sleep(0.001)
            await (conn.commit() if write else conn.rollback())
        finally:
            busy -= 1
            await database.end(conn, write)
        return int(value)

    try:
        results = await asyncio.gather(*(unit(write=i % 3 == 0) for i in range(10 * PG_TURNS)))
        kept = sum(len(idle) for idle in database._idle.values())
    finally:
        await database.dispose()
    assert results == [1] * (10 * PG_TURNS)
    assert most == PG_TURNS
    assert 0 < kept <= 2 * PG_TURNS


async def test_no_turn_in_time_is_a_pool_timeout(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "POOL_TIMEOUT", 0.05)
    database = Database(postgres_url)
    held = [await database.begin(write=False) for _ in range(PG_TURNS)]
    try:
        with pytest.raises(PoolTimeout):
            await database.begin(write=False)
        await database.end(held.pop(), write=False)
        conn = await database.begin(write=False)  # a turn given back is taken again
        held.append(conn)
    finally:
        for conn in held:
            await database.end(conn, write=False)
        await database.dispose()


async def test_reads_are_autocommit_and_writers_still_get_a_transaction(postgres_url: str) -> None:
    """now() is the transaction's start: it moves between a read's statements, not a write's,
    also on a connection that served reads and went back to the pool."""
    database = Database(postgres_url)
    now = text("SELECT now()")

    async def two_nows(write: bool) -> tuple[object, object]:
        conn = await database.begin(write)
        try:
            first = (await conn.execute(now)).scalar_one()
            await asyncio.sleep(0.01)
            second = (await conn.execute(now)).scalar_one()
            await conn.rollback()
        finally:
            await database.end(conn, write)
        return first, second

    try:
        first, second = await two_nows(write=False)
        assert first != second
        readers = await asyncio.gather(*(database.begin(write=False) for _ in range(PG_TURNS)))
        for conn in readers:
            await conn.close()  # back to the pool, not kept: the next writer may get one
        for _ in range(PG_TURNS):
            database.turns.release()  # type: ignore[union-attr]
        writes = await asyncio.gather(*(two_nows(write=True) for _ in range(PG_TURNS)))
    finally:
        await database.dispose()
    assert all(first == second for first, second in writes)


async def test_a_snapshot_read_is_a_transaction_and_leaves_the_reads_in_autocommit(
    postgres_url: str,
) -> None:
    database = Database(postgres_url)
    try:
        async with SqlUnitOfWork(database, read_only=True) as uow:  # autocommit: no snapshot
            with pytest.raises(RuntimeError, match="snapshot"):
                await uow.replay.read_only()
        async with SqlUnitOfWork(database, read_only=True, snapshot=True) as uow:
            await uow.replay.read_only()  # REPEATABLE READ, READ ONLY: first in a transaction
            assert await uow.replay.share_snapshot()
        conn = await database.begin(write=False)  # a read after it: still autocommit
        try:
            first = (await conn.execute(text("SELECT now()"))).scalar_one()
            await asyncio.sleep(0.01)
            assert (await conn.execute(text("SELECT now()"))).scalar_one() > first  # 2 transactions
        finally:
            await database.end(conn, write=False)
    finally:
        await database.dispose()
