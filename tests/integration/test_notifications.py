"""Notifications: written with the change that causes them, delivered once.

Every delivery outcome (blocked, refused, 429, network trouble) is in tests/delivery.
"""

from __future__ import annotations

from domain.services.notifications import pending_notifications
from tests.conftest import NOW
from tests.delivery.helpers import FakeBotApi, FakeClock, deliver, new_sender
from tests.integration.helpers import buy, line, new_member


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
    friends = [await new_member(uow, program, 10 + i, referral_code=alice.code) for i in range(3)]
    for i, friend in enumerate(friends):
        await buy(uow, program, friend, f"R-{i}", line("X", "coffee", 1, "1.00"))
    mine = [t for member_id, t in await templates(uow) if member_id == alice.id]
    assert mine == ["friend_joined"] * 3 + ["friend_qualified"] * 3 + ["milestone_reached"]


async def test_delivery_sends_once_in_the_members_language(database, uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("SNEAKER", "shoes", 1, "100.00"))
    api = FakeBotApi()
    await deliver(new_sender(database, api, FakeClock(NOW)))
    [sent] = api.sent
    assert sent.chat_id == 1
    assert "Purchase R-1: <b>+205</b> points" in sent.text
    assert "• shoes: 200" in sent.text
    assert "Balance: <b>255</b> points · Tier: Member" in sent.text
    await deliver(new_sender(database, api, FakeClock(NOW)))
    assert len(api.sent) == 1
    assert await pending_notifications(uow) == []
