"""The leader lock over one database: one leader at a time, a lost leader replaced."""

from __future__ import annotations

from sqlalchemy import text

from storage.database import Database
from storage.leader import LeaderLock
from storage.locks import LEADER_LOCK, MIGRATION_LOCK

KEY = LEADER_LOCK + 1000  # apart from a scheduler another test may run on the same database


def test_the_leader_and_the_migrator_take_different_locks() -> None:
    assert LEADER_LOCK != MIGRATION_LOCK


async def test_one_leads_until_it_lets_go(database: Database) -> None:
    first, second = LeaderLock(database, KEY), LeaderLock(database, KEY)
    try:
        assert await first.check()
        assert await first.check()  # kept
        if database.dialect == "sqlite":  # one process serves SQLite: it always leads
            return
        assert not await second.check()
        await first.release()
        assert not first.leads
        assert await second.check()
    finally:
        await first.release()
        await second.release()


async def test_a_leader_whose_connection_died_gives_way(database: Database) -> None:
    if database.dialect == "sqlite":
        return
    first, second = LeaderLock(database, KEY), LeaderLock(database, KEY)
    try:
        assert await first.check()
        async with database.writer.connect() as conn:  # as a network cut or a DBA would
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND classid = :high AND objid = :low AND database = (SELECT oid FROM "
                    "pg_database WHERE datname = current_database())"
                ),
                {"high": KEY >> 32, "low": KEY & 0xFFFFFFFF},
            )  # a bigint key's two halves
            await conn.commit()
        assert not await first.check()
        assert await second.check()
        assert not await first.check()
    finally:
        await first.release()
        await second.release()
