"""Quick reads (`storage.quick_reads`): the rows SQLAlchemy would give, on the driver in a
read unit of work, through SQLAlchemy in a write or snapshot one (so they see its
transaction), and a read unit of work that used one ends its snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, select, text, update

from storage.database import Database
from storage.quick_reads import QuickRead
from storage.repositories.conversations import MEMBER_AND_STATE
from storage.tables import ConversationStateRow, MemberRow
from storage.uow import SqlUnitOfWork

NOW = datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=UTC)
MEMBERS = MemberRow.c
NAMES = QuickRead(
    select(MEMBERS.first_name, MEMBERS.joined_at)
    .where(MEMBERS.joined_at >= bindparam("since"))
    .order_by(MEMBERS.id)
)


async def add_member(database: Database, member_id: int, step: str | None = None) -> None:
    """A member (Telegram id 1000 + id), on `step` if given."""
    async with SqlUnitOfWork(database) as uow:
        conn = uow.members.conn
        await conn.execute(
            insert(MemberRow).values(
                id=member_id,
                code=f"CODE{member_id}",
                telegram_id=1000 + member_id,
                first_name=f"Ana {member_id}",
                locale="es",
                marketing_opt_in=True,
                reachable=False,
                joined_at=NOW + timedelta(minutes=member_id),
                tier="silver",
            )
        )
        if step is not None:
            await conn.execute(
                insert(ConversationStateRow).values(
                    telegram_id=1000 + member_id,
                    step=step,
                    data={"amount": "12.50", "ids": [1, 2]},
                    updated_at=NOW,
                )
            )


async def test_a_quick_read_gives_the_rows_sqlalchemy_gives(database):
    await add_member(database, 1, step="donate")
    await add_member(database, 2)
    for telegram_id in (1001, 1002, 1003):
        async with SqlUnitOfWork(database, read_only=True) as uow:
            conn = uow.members.conn
            quick = await MEMBER_AND_STATE.first(conn, {"telegram_id": telegram_id})
            plain = (
                await conn.execute(MEMBER_AND_STATE.statement, {"telegram_id": telegram_id})
            ).first()
        assert (quick is None) == (plain is None)
        if plain is not None:
            assert tuple(quick) == tuple(plain)
            assert quick.joined_at.tzinfo is UTC
            assert quick.reachable is False
    async with SqlUnitOfWork(database, read_only=True) as uow:
        rows = await NAMES.all(uow.members.conn, {"since": NOW + timedelta(minutes=2)})
    assert [(r.first_name, r.joined_at) for r in rows] == [("Ana 2", NOW + timedelta(minutes=2))]


async def test_the_state_comes_back_as_written(database):
    await add_member(database, 1, step="donate")
    async with SqlUnitOfWork(database, read_only=True) as uow:
        member, state = await uow.conversations.member_and_step(1001)
    assert member is not None
    assert (member.first_name, member.tier) == ("Ana 1", "silver")
    assert state is not None
    assert (state.step, state.data, state.updated_at) == (
        "donate",
        {"amount": "12.50", "ids": [1, 2]},
        NOW,
    )


async def test_in_a_write_unit_of_work_it_sees_the_transaction(database):
    await add_member(database, 1)
    async with SqlUnitOfWork(database) as uow:
        conn = uow.members.conn
        await conn.execute(update(MemberRow).values(first_name="Eva"))
        row = await MEMBER_AND_STATE.first(conn, {"telegram_id": 1001})
        assert row.first_name == "Eva"
        await conn.rollback()


async def test_in_a_snapshot_read_it_sees_the_snapshot(database):
    """(PostgreSQL's snapshot reads are transactions: made repeatable here to tell.)"""
    await add_member(database, 1)
    async with SqlUnitOfWork(database, read_only=True, snapshot=True) as reader:
        if database.dialect == "postgresql":
            await reader.members.conn.execute(
                text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            )
        before = await MEMBER_AND_STATE.first(reader.members.conn, {"telegram_id": 1001})
        async with SqlUnitOfWork(database) as writer:
            await writer.members.conn.execute(update(MemberRow).values(first_name="Eva"))
        again = await MEMBER_AND_STATE.first(reader.members.conn, {"telegram_id": 1001})
    assert before.first_name == again.first_name == "Ana 1"


async def test_a_read_unit_of_work_ends_its_snapshot(database):
    await add_member(database, 1)
    async with SqlUnitOfWork(database, read_only=True) as uow:
        first = uow.members.conn
        assert (await MEMBER_AND_STATE.first(first, {"telegram_id": 1001})).first_name == "Ana 1"
    async with SqlUnitOfWork(database) as writer:
        await writer.members.conn.execute(update(MemberRow).values(first_name="Eva"))
    async with SqlUnitOfWork(database, read_only=True) as uow:
        assert uow.members.conn is first  # the same connection, kept
        assert (await MEMBER_AND_STATE.first(first, {"telegram_id": 1001})).first_name == "Eva"
