"""Nudges, surprises, expiry and downgrades against both databases, with a moving clock."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from domain.ledger import add_months
from domain.nudges import Nudge
from domain.program import Program
from domain.services.members import forget
from domain.services.nudges import due_nudges, note_invite_shown, queue_nudges
from domain.services.points import expire_due_points
from domain.services.surprise import run_surprise
from domain.services.tiering import review_tiers
from storage.checks import check_invariants
from storage.database import Database
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW  # 10:30 in New York, outside the quiet hours
from tests.integration.helpers import buy, line, new_member

DAY = timedelta(days=1)


def only(program: Program, *kinds: str) -> Program:
    """The program with just these nudge kinds."""
    rules = tuple(r for r in program.nudges.rules if r.kind in kinds)
    return dataclasses.replace(program, nudges=dataclasses.replace(program.nudges, rules=rules))


async def due(database: Database, program: Program, now: datetime) -> list[Nudge]:
    return [
        n
        async for chunk in due_nudges(
            SqlUnitOfWork(database, read_only=True), program, now, chunk=2
        )
        for n in chunk
    ]


async def messages(database: Database) -> list[tuple[int, str, dict[str, Any]]]:
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(OutboxRow.c.member_id, OutboxRow.c.template, OutboxRow.c.context).order_by(
                OutboxRow.c.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def nudges_sent(database: Database) -> list[tuple[int, str]]:
    return [(m, t) for m, t, _ in await messages(database) if t.startswith("nudge_")]


async def test_due_then_queued_once_per_cause(database, uow, program):
    early = NOW - 20 * DAY
    ann = await new_member(uow, program, 1, now=early)
    bob = await new_member(uow, program, 2, now=early)
    await note_invite_shown(uow, bob.id, early)
    [nudge] = await due(database, program, NOW)
    assert (nudge.member_id, nudge.kind, nudge.cause_key) == (
        ann.id,
        "referral_reminder",
        "referral_reminder",
    )
    assert await nudges_sent(database) == []  # a dry run records nothing
    assert await queue_nudges(uow, program, NOW, chunk=2) == 1
    assert await queue_nudges(uow, program, NOW, chunk=2) == 0
    assert await queue_nudges(uow, program, NOW + 3 * DAY) == 0  # that cause is spent
    later = await due(database, program, NOW + 11 * DAY)  # 31 days without a visit
    assert [(n.member_id, n.kind) for n in later] == [(ann.id, "inactive"), (bob.id, "inactive")]
    assert await queue_nudges(uow, program, NOW + 11 * DAY) == 2
    assert await nudges_sent(database) == [
        (ann.id, "nudge_referral_reminder"),
        (ann.id, "nudge_inactive"),
        (bob.id, "nudge_inactive"),
    ]


async def test_points_expiring_with_a_moving_clock(database, uow, program):
    program = only(program, "points_expiring")
    member = await new_member(uow, program, 1)
    expires = add_months(NOW, program.expiry.months)
    assert await due(database, program, expires - 15 * DAY) == []
    [nudge] = await due(database, program, expires - 14 * DAY)
    assert nudge.context == {"points": 50, "date": f"{expires:%Y-%m-%d}", "balance": 50}
    assert await queue_nudges(uow, program, expires - 14 * DAY) == 1
    assert await due(database, program, expires - 10 * DAY) == []
    assert await due(database, program, expires) == []  # due for expiry, not a nudge
    [(member_id, template, context)] = await messages(database)
    assert (member_id, template, context["points"]) == (member.id, "nudge_points_expiring", 50)


async def test_inactive_offer_uses_the_favourite_category(database, uow, program):
    program = only(program, "inactive")
    member = await new_member(uow, program, 1)
    await buy(
        uow, program, member, "R-1", line("S", "shoes", 1, "60.00"), line("C", "coffee", 2, "4.50")
    )
    assert await due(database, program, NOW + 29 * DAY) == []
    [nudge] = await due(database, program, NOW + 30 * DAY)
    assert nudge.cause_key == f"inactive:{NOW:%Y-%m-%d}"
    assert nudge.context == {
        "days": 30,
        "category": "shoes",
        "reward": "coffee",
        "points_needed": 0,
    }


async def test_one_nudge_in_min_days_between(database, uow, program):
    program = only(program, "reward_affordable", "referral_reminder")
    member = await new_member(uow, program, 1, now=NOW - 20 * DAY)
    await buy(uow, program, member, "R-1", line("C", "coffee", 1, "100.00"))
    assert await queue_nudges(uow, program, NOW) == 1
    assert await queue_nudges(uow, program, NOW + DAY) == 0
    assert await queue_nudges(uow, program, NOW + 3 * DAY) == 1
    assert await nudges_sent(database) == [
        (member.id, "nudge_reward_affordable"),
        (member.id, "nudge_referral_reminder"),
    ]


async def test_opted_out_forgotten_and_quiet_members_get_nothing(database, uow, program):
    ids = [(await new_member(uow, program, i, now=NOW - 20 * DAY)).id for i in (1, 2, 3)]
    async with uow:
        await uow.members.update_profile(ids[0], reminders_opt_in=False)
        await uow.members.update_profile(ids[1], timezone="Asia/Tokyo")  # 00:30 there
    await forget(uow, ids[2], NOW)
    assert await due(database, program, NOW) == []
    assert [n.member_id for n in await due(database, program, NOW + 10 * DAY / 24)] == [ids[1]]


async def points(uow: SqlUnitOfWork, member_id: int) -> int:
    async with uow:
        return await uow.ledger.balance(member_id)


def surprising(program: Program, **changes: Any) -> Program:
    rules = dataclasses.replace(
        program.surprise, **{"probability": 1.0, "daily_budget": 300, "bonus": 100, **changes}
    )
    return dataclasses.replace(program, surprise=rules)


async def loyal_members(uow, program: Program, count: int) -> list[int]:
    ids = []
    for i in range(1, count + 1):
        member = await new_member(uow, program, i, now=NOW - 10 * DAY)
        for receipt in range(3):
            await buy(
                uow,
                program,
                member,
                f"R-{i}-{receipt}",
                line("C", "coffee", 1, "5.00"),
                now=NOW - DAY,
            )
        ids.append(member.id)
    return ids


async def test_surprise_within_the_daily_budget_keeps_the_books(database, uow, program):
    program = surprising(program)
    ids = await loyal_members(uow, program, 5)
    newcomer = await new_member(uow, program, 99)
    before = {i: await points(uow, i) for i in ids}
    first = await run_surprise(uow, program, NOW, random.Random("seed"))
    assert first.drawn
    assert first.eligible == 5
    assert len(first.surprised) == 3
    assert newcomer.id not in first.surprised
    again = await run_surprise(uow, program, NOW + timedelta(hours=1), random.Random("seed"))
    assert again.surprised == ()  # the day's budget is spent, nobody twice
    for member_id in ids:
        gained = await points(uow, member_id) - before[member_id]
        assert gained == (100 if member_id in first.surprised else 0)
    surprises = [(m, c) for m, t, c in await messages(database) if t == "surprise_bonus"]
    assert sorted(m for m, _ in surprises) == sorted(first.surprised)
    assert all(c["points"] == 100 for _, c in surprises)
    next_day = await run_surprise(uow, program, NOW + DAY, random.Random("seed"))
    assert len(next_day.surprised) == 3
    assert await check_invariants(database) == []


async def test_a_surprise_rerun_with_the_same_seed_gives_nothing_more(database, uow, program):
    program = surprising(program, probability=0.5, daily_budget=10_000)
    await loyal_members(uow, program, 6)
    first = await run_surprise(uow, program, NOW, random.Random(42))
    again = await run_surprise(uow, program, NOW, random.Random(42))
    assert first.surprised
    assert again.surprised == ()
    assert await check_invariants(database) == []


async def test_no_surprise_inside_quiet_hours_or_off_draw_days(database, uow, program):
    await loyal_members(uow, program, 2)
    quiet = await run_surprise(
        uow, surprising(program), NOW + 12 * timedelta(hours=1), random.Random(1)
    )  # 22:30 in New York
    assert not quiet.drawn
    rare = surprising(program, every_days=1000)
    assert not (await run_surprise(uow, rare, NOW, random.Random(1))).drawn
    assert await messages(database) == [
        m for m in await messages(database) if m[1] != "surprise_bonus"
    ]


async def test_expiry_tells_the_member(database, uow, program):
    member = await new_member(uow, program, 1)
    run = await expire_due_points(uow, add_months(NOW, program.expiry.months))
    assert run.points == 50
    assert await messages(database) == [(member.id, "points_expired", {"points": 50, "balance": 0})]
    assert await check_invariants(database) == []


async def test_a_downgrade_after_grace_tells_the_member(database, uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("C", "coffee", 1, "500.00"))
    window_over = NOW + timedelta(days=program.tiers.window_days + 1)
    assert await review_tiers(uow, program, window_over) == 0  # grace starts
    grace_over = window_over + timedelta(days=program.tiers.grace_days)
    assert await review_tiers(uow, program, grace_over) == 1
    downs = [(m, c) for m, t, c in await messages(database) if t == "tier_down"]
    assert downs == [(member.id, {"tier": "Member", "previous": "Insider"})]
