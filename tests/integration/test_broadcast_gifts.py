"""A broadcast's gift is claimed once per member; status messages are edited on change."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from bot.broadcast_status import refresh_statuses
from bot.conversation.actions import Answer, Edit, Menu, Send
from domain.broadcasts import BroadcastContent
from domain.errors import NotFound
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from domain.services.gifts import claim_gift, status_shown
from storage.checks import check_invariants
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import new_member


class Recorder:
    """A BotApi that keeps the edits it was asked for."""

    def __init__(self) -> None:
        self.edits: list[Edit] = []

    async def send(self, action: Send) -> int:
        return 1

    async def edit(self, action: Edit) -> None:
        self.edits.append(action)

    async def answer(self, action: Answer) -> None:
        return None

    async def menu(self, action: Menu) -> None:
        return None


async def queued(database, content: BroadcastContent) -> int:
    return await queue_broadcast(SqlUnitOfWork(database), content, Segment(), "test", NOW)


async def test_bonus_once_per_member_even_when_pressed_at_once(database, program):
    member = await new_member(SqlUnitOfWork(database), program, telegram_id=1)
    broadcast_id = await queued(
        database, BroadcastContent("Gift!", button_text="Claim", bonus_points=75)
    )
    gifts = await asyncio.gather(
        *(
            claim_gift(
                SqlUnitOfWork(database),
                program,
                member_id=member.id,
                broadcast_id=broadcast_id,
                now=NOW,
            )
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    given = [g for g in gifts if not isinstance(g, BaseException) and not g.again]
    assert len(given) == 1
    assert given[0].points == 75
    assert given[0].balance == program.info.signup_bonus + 75
    assert await check_invariants(database) == []


async def test_voucher_gift_and_a_broadcast_without_gift(database, program):
    member = await new_member(SqlUnitOfWork(database), program, telegram_id=1)
    reward = program.rewards[0]
    with_voucher = await queued(
        database, BroadcastContent("Coffee on us", button_text="Get it", reward_id=reward.id)
    )
    gift = await claim_gift(
        SqlUnitOfWork(database), program, member_id=member.id, broadcast_id=with_voucher, now=NOW
    )
    assert gift.voucher is not None
    assert gift.voucher.reward_id == reward.id
    assert gift.balance == program.info.signup_bonus  # nothing spent
    plain = await queued(database, BroadcastContent("Just news"))
    with pytest.raises(NotFound):
        await claim_gift(
            SqlUnitOfWork(database), program, member_id=member.id, broadcast_id=plain, now=NOW
        )
    assert await check_invariants(database) == []


async def test_status_message_edited_only_when_numbers_change(database, program):
    for telegram_id in (1, 2, 3):
        await new_member(SqlUnitOfWork(database), program, telegram_id=telegram_id)
    broadcast_id = await queued(database, BroadcastContent("News"))
    async with SqlUnitOfWork(database) as uow:
        await uow.broadcasts.set_status_message(broadcast_id, 900, 55)
    await status_shown(SqlUnitOfWork(database), broadcast_id, "en", "(first text)")
    api = Recorder()

    def reader() -> SqlUnitOfWork:
        return SqlUnitOfWork(database, read_only=True)

    assert await refresh_statuses(lambda: SqlUnitOfWork(database), reader, api, 25.0) == 1
    assert "Sent 0 / 3" in api.edits[0].text
    assert "About 1 s left" in api.edits[0].text
    assert await refresh_statuses(lambda: SqlUnitOfWork(database), reader, api, 25.0) == 0
    async with database.writer.begin() as conn:
        await conn.execute(
            update(OutboxRow).where(OutboxRow.c.broadcast_id == broadcast_id).values(state="sent")
        )
    assert await refresh_statuses(lambda: SqlUnitOfWork(database), reader, api, 25.0) == 1
    assert "Sent 3 / 3" in api.edits[-1].text
    assert api.edits[-1].message_id == 55
