"""Notifications: written with the change that causes them, delivered once, failures settled."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.conversation.actions import Answer, Edit, Send
from bot.delivery import MAX_ATTEMPTS, deliver_pending
from bot.telegram.replies import RecipientBlocked, RetryLater, TelegramRefused, TelegramUnreachable
from domain.services.members import forget
from domain.services.notifications import pending_notifications
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import buy, line, new_member


@dataclass
class FakeBotApi:
    """Records sends; raises the queued errors first."""

    errors: list[Exception] = field(default_factory=list)
    sent: list[Send] = field(default_factory=list)

    async def send(self, action: Send) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(action)

    async def edit(self, action: Edit) -> None:
        raise AssertionError("the outbox only sends")

    async def answer(self, action: Answer) -> None:
        raise AssertionError("the outbox only sends")


async def templates(uow) -> list[tuple[int, str]]:
    return [(n.member_id, n.template) for n in await pending_notifications(uow)]


async def test_a_purchase_tells_the_points_and_a_new_tier(uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "500.00"))
    assert await templates(uow) == [(member.id, "points_earned"), (member.id, "tier_up")]
    [earned, tier] = await pending_notifications(uow)
    assert earned.context["points_awarded"] == 505
    assert tier.context == {"tier": "Insider"}
    assert (earned.telegram_id, earned.locale) == (1, "en")


async def test_referrals_tell_the_referrer(uow, program):
    alice = await new_member(uow, program, 1)
    friends = [await new_member(uow, program, 10 + i, referral_code=alice.code)
               for i in range(3)]
    for i, friend in enumerate(friends):
        await buy(uow, program, friend, f"R-{i}", line("X", "coffee", 1, "1.00"))
    mine = [t for member_id, t in await templates(uow) if member_id == alice.id]
    assert mine == ["friend_joined"] * 3 + ["friend_qualified"] * 3 + ["milestone_reached"]


async def test_delivery_sends_once_in_the_members_language(database, uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("SNEAKER", "shoes", 1, "100.00"))
    api = FakeBotApi()
    writer = lambda: SqlUnitOfWork(database)  # noqa: E731
    assert await deliver_pending(writer, api, lambda: NOW) == 1
    [sent] = api.sent
    assert sent.chat_id == 1
    assert "Purchase R-1: <b>+205</b> points" in sent.text
    assert "• shoes: 200" in sent.text
    assert "Balance: <b>255</b> points · Tier: Member" in sent.text
    assert await deliver_pending(writer, api, lambda: NOW) == 0
    assert len(api.sent) == 1


@pytest.mark.parametrize(("error", "settled", "reachable"), [
    (RecipientBlocked("blocked"), True, False),
    (TelegramRefused("Bad Request: chat not found"), True, True),
    (RetryLater(0), False, True),
    (TelegramUnreachable("timeout"), False, True),
])
async def test_delivery_failures(database, uow, program, error, settled, reachable):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "10"))
    api = FakeBotApi(errors=[error])
    await deliver_pending(lambda: SqlUnitOfWork(database), api, lambda: NOW)
    assert (await pending_notifications(uow) == []) is settled
    async with uow:
        assert (await uow.members.get(member.id)).reachable is reachable


async def test_network_trouble_gives_up_after_several_attempts(database, uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "10"))
    api = FakeBotApi(errors=[TelegramUnreachable("down")] * MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        await deliver_pending(lambda: SqlUnitOfWork(database), api, lambda: NOW)
    assert await pending_notifications(uow) == []
    assert api.sent == []


async def test_nothing_is_sent_to_a_forgotten_member(database, uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "10"))
    await forget(uow, member.id, NOW)
    api = FakeBotApi()
    assert await deliver_pending(lambda: SqlUnitOfWork(database), api, lambda: NOW) == 1
    assert api.sent == []
