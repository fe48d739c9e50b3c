"""Actions that earn, on both databases: each paid once per member, also under taps at
once; a link needing approval paid once on approval, also when two admins decide at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.errors import NotFound
from domain.metrics import points_figures, window
from domain.program import Action
from domain.services.actions import (
    channel_joined,
    decide_claim,
    earn_overview,
    link_done,
    pending_claims,
    phone_shared,
)
from storage.checks import check_invariants
from storage.tables import ActionClaimRow, OutboxRow, TransactionRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import balance, new_member

CHANNEL = Action(
    "channel", "Join our channel", "telegram_channel", points=50, channel="@northwind_news"
)
FOLLOW = Action("instagram", "Follow us", "link", points=25, url="https://instagram.com/nw")
REVIEW = Action(
    "review", "Review us", "link", points=40, url="https://example.com/review", approval=True
)
PHONE = Action("phone", "Share your phone", "phone", points=15)


@pytest.fixture
def acting(program):
    """The bundled program with one action of each paid-at-once kind and one needing approval."""
    return replace(program, actions=(CHANNEL, FOLLOW, REVIEW, PHONE))


async def rows(database, *where) -> int:
    async with database.reader.connect() as conn:
        return (
            await conn.execute(select(func.count()).select_from(ActionClaimRow).where(*where))
        ).scalar()


async def test_a_channel_join_pays_once_even_when_checked_at_once(database, acting):
    member = await new_member(SqlUnitOfWork(database), acting, 1)
    claims = await asyncio.gather(
        *(
            channel_joined(
                SqlUnitOfWork(database), acting, member_id=member.id, action_id="channel", now=NOW
            )
            for _ in range(5)
        )
    )
    assert sorted(c.new for c in claims) == [False, False, False, False, True]
    assert {c.status for c in claims} == {"paid"}
    assert {c.points for c in claims} == {50}
    assert await balance(SqlUnitOfWork(database), member) == acting.info.signup_bonus + 50
    assert await rows(database) == 1
    assert await check_invariants(database) == []


async def test_a_link_pays_once_and_kinds_do_not_mix(database, acting):
    member = await new_member(SqlUnitOfWork(database), acting, 1)
    first = await link_done(
        SqlUnitOfWork(database), acting, member_id=member.id, action_id="instagram", now=NOW
    )
    again = await link_done(
        SqlUnitOfWork(database),
        acting,
        member_id=member.id,
        action_id="instagram",
        now=NOW + timedelta(days=3),
    )
    assert (first.new, first.status, first.points, first.balance) == (True, "paid", 25, 75)
    assert (again.new, again.status, again.balance) == (False, "paid", 75)
    with pytest.raises(NotFound):  # a link is no channel, and an unknown id is nothing
        await channel_joined(
            SqlUnitOfWork(database), acting, member_id=member.id, action_id="instagram", now=NOW
        )
    with pytest.raises(NotFound):
        await link_done(
            SqlUnitOfWork(database), acting, member_id=member.id, action_id="nothing", now=NOW
        )
    async with SqlUnitOfWork(database, read_only=True) as uow:
        history = await uow.ledger.history(member.id, 10, 0)
    assert next((r.kind, r.points, r.reference) for r in history) == (
        "action",
        25,
        "action:instagram",
    )


async def test_approval_pays_once_when_two_admins_approve_at_once(database, acting):
    member = await new_member(SqlUnitOfWork(database), acting, 1)
    claimed = await link_done(
        SqlUnitOfWork(database), acting, member_id=member.id, action_id="review", now=NOW
    )
    assert (claimed.new, claimed.status, claimed.points) == (True, "pending", 0)
    tapped = await link_done(
        SqlUnitOfWork(database), acting, member_id=member.id, action_id="review", now=NOW
    )
    assert (tapped.new, tapped.status) == (False, "pending")
    waiting = await pending_claims(SqlUnitOfWork(database), 10)
    assert [(c.id, m.id) for c, m in waiting] == [(claimed.claim_id, member.id)]
    decisions = await asyncio.gather(
        *(
            decide_claim(
                SqlUnitOfWork(database),
                acting,
                claim_id=claimed.claim_id,
                approve=approve,
                actor=f"telegram:{admin}",
                now=NOW,
            )
            for admin, approve in ((1, True), (2, True), (3, False))
        )
    )
    winners = [d for d in decisions if d.new]
    assert len(winners) == 1
    assert {d.status for d in decisions} == {winners[0].status}
    paid = winners[0].status == "paid"
    assert await balance(SqlUnitOfWork(database), member) == 50 + (40 if paid else 0)
    assert await pending_claims(SqlUnitOfWork(database), 10) == []
    async with database.reader.connect() as conn:
        templates = (await conn.execute(select(OutboxRow.c.template))).scalars().all()
    assert templates == ["action_approved" if paid else "action_rejected"]
    assert await check_invariants(database) == []


async def test_approved_and_rejected_claims(database, acting):
    ann = await new_member(SqlUnitOfWork(database), acting, 1)
    bob = await new_member(SqlUnitOfWork(database), acting, 2)
    claims = [
        await link_done(
            SqlUnitOfWork(database), acting, member_id=m.id, action_id="review", now=NOW
        )
        for m in (ann, bob)
    ]
    yes = await decide_claim(
        SqlUnitOfWork(database),
        acting,
        claim_id=claims[0].claim_id,
        approve=True,
        actor="telegram:9",
        now=NOW,
    )
    no = await decide_claim(
        SqlUnitOfWork(database),
        acting,
        claim_id=claims[1].claim_id,
        approve=False,
        actor="telegram:9",
        now=NOW,
    )
    assert (yes.status, yes.points, no.status, no.points) == ("paid", 40, "rejected", 0)
    late = await decide_claim(
        SqlUnitOfWork(database),
        acting,
        claim_id=claims[1].claim_id,
        approve=True,
        actor="telegram:8",
        now=NOW,
    )
    assert (late.new, late.status) == (False, "rejected")
    again = await link_done(
        SqlUnitOfWork(database), acting, member_id=bob.id, action_id="review", now=NOW
    )
    assert (again.new, again.status) == (False, "rejected")
    assert (
        await balance(SqlUnitOfWork(database), ann),
        await balance(SqlUnitOfWork(database), bob),
    ) == (90, 50)
    with pytest.raises(NotFound):
        await decide_claim(
            SqlUnitOfWork(database), acting, claim_id=999, approve=True, actor="telegram:9", now=NOW
        )


async def test_the_phone_action_pays_once_and_only_if_the_program_has_one(
    database, acting, program
):
    member = await new_member(SqlUnitOfWork(database), acting, 1)
    first = await phone_shared(SqlUnitOfWork(database), acting, member_id=member.id, now=NOW)
    second = await phone_shared(SqlUnitOfWork(database), acting, member_id=member.id, now=NOW)
    assert first is not None
    assert second is not None
    assert (first.new, first.points, second.new) == (True, 15, False)
    assert (
        await phone_shared(SqlUnitOfWork(database), program, member_id=member.id, now=NOW) is None
    )
    assert await balance(SqlUnitOfWork(database), member) == 65


async def test_earn_overview_and_the_points_issued_by_kind(database, acting):
    member = await new_member(SqlUnitOfWork(database), acting, 1)
    await channel_joined(
        SqlUnitOfWork(database), acting, member_id=member.id, action_id="channel", now=NOW
    )
    await link_done(
        SqlUnitOfWork(database), acting, member_id=member.id, action_id="review", now=NOW
    )
    overview = await earn_overview(SqlUnitOfWork(database), acting, member, NOW)
    assert [(s.action.id, s.status) for s in overview.actions] == [
        ("channel", "paid"),
        ("instagram", None),
        ("review", "pending"),
        ("phone", None),
    ]
    assert (overview.birthday, overview.has_phone) == (None, False)
    async with SqlUnitOfWork(database, read_only=True) as uow:
        facts = await uow.metrics.facts(
            window(acting, NOW.date() - timedelta(days=1), NOW.date() + timedelta(days=1))
        )
    assert points_figures(acting, facts).issued["action"] == 50
    async with database.reader.connect() as conn:
        kinds = await conn.execute(select(TransactionRow.c.kind).order_by(TransactionRow.c.id))
        assert kinds.scalars().all() == ["signup", "action"]
