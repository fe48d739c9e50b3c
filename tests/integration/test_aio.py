"""storage.aio, the awaitable Core connections storage uses in place of SQLAlchemy's asyncio
extension: transactions commit or roll back as Core's do, and a cancelled task's connection
goes back to the pool, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.engine import Connection

from storage.aio import AsyncEngine, create_async_engine

THINGS = Table("things", MetaData(), Column("id", Integer, primary_key=True))


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(empty_database_url)
    async with engine.begin() as conn:
        await conn.run_sync(THINGS.metadata.create_all)
    yield engine
    await engine.dispose()


async def ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(THINGS.c.id).order_by(THINGS.c.id))).scalars())


async def test_a_transaction_commits_at_its_end_and_rolls_back_on_an_error(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(THINGS), [{"id": 1}, {"id": 2}])
    with pytest.raises(RuntimeError):
        await insert_then_fail(engine)
    assert await ids(engine) == [1, 2]


async def insert_then_fail(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(THINGS).values(id=3))
        raise RuntimeError("changed my mind")


async def test_a_connection_begun_by_hand_commits_and_rolls_back_when_told(
    engine: AsyncEngine,
) -> None:
    conn = await engine.connect()
    try:
        await conn.begin()
        assert conn.in_transaction()
        await conn.execute(insert(THINGS).values(id=1))
        await conn.commit()
        await conn.begin()
        await conn.execute(insert(THINGS).values(id=2))
        await conn.rollback()
        assert await conn.scalar(select(THINGS.c.id)) == 1
    finally:
        await conn.close()
    assert conn.closed
    assert await ids(engine) == [1]


async def test_run_sync_hands_over_the_connection_itself(engine: AsyncEngine) -> None:
    def count(sync: Connection, table: Table) -> int:
        return len(sync.execute(select(table)).all())

    async with engine.begin() as conn:
        await conn.execute(insert(THINGS).values(id=7))
        assert await conn.run_sync(count, THINGS) == 1


async def test_a_cancelled_tasks_connection_goes_back_to_the_pool(engine: AsyncEngine) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with engine.connect() as conn:
            await conn.execute(select(THINGS.c.id))
            entered.set()
            await release.wait()

    task = asyncio.create_task(hold())
    await entered.wait()
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
