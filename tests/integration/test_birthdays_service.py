"""Birthdays on both databases: set once a year, paid on the day from 10:00 on the
member's clock and never in quiet hours, not to new members, once per year."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from domain.errors import InvalidRequest
from domain.program import Action
from domain.services.birthdays import days_today, member_birthday, pay_birthdays, set_birthday
from domain.services.members import forget, update_settings
from storage.checks import check_invariants
from storage.tables import OutboxRow, VoucherRow
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import balance, new_member

JOINED = datetime(2025, 1, 10, 12, tzinfo=UTC)
TREAT = Action(
    "birthday", "Birthday treat", "birthday", points=100, reward="coffee", min_member_days=30
)


@pytest.fixture
def treating(program):
    """The bundled program (quiet hours 21:00-09:00) with a birthday action."""
    return replace(program, actions=(TREAT,))


def at(text: str) -> datetime:
    """A UTC moment written '2026-03-10 01:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def member_born(
    database,
    program,
    telegram_id: int,
    month: int,
    day: int,
    timezone: str | None = None,
    joined: datetime = JOINED,
) -> int:
    member = await new_member(SqlUnitOfWork(database), program, telegram_id, now=joined)
    if timezone:
        await update_settings(SqlUnitOfWork(database), member.id, timezone=timezone)
    await set_birthday(
        SqlUnitOfWork(database), member_id=member.id, month=month, day=day, now=joined
    )
    return member.id


async def paid(database, program, moment: str) -> tuple[int, ...]:
    return (await pay_birthdays(SqlUnitOfWork(database), program, at(moment))).paid


async def test_set_once_a_year(database, program):
    member = await new_member(SqlUnitOfWork(database), program, 1, now=JOINED)
    first = await set_birthday(
        SqlUnitOfWork(database), member_id=member.id, month=3, day=10, now=JOINED
    )
    assert (first.changed, first.birthday.month, first.birthday.day) == (True, 3, 10)
    soon = await set_birthday(
        SqlUnitOfWork(database),
        member_id=member.id,
        month=4,
        day=1,
        now=JOINED + timedelta(days=364),
    )
    assert (soon.changed, soon.birthday.month, soon.birthday.day) == (False, 3, 10)
    assert soon.changeable_from == JOINED + timedelta(days=365)
    later = await set_birthday(
        SqlUnitOfWork(database),
        member_id=member.id,
        month=4,
        day=1,
        now=JOINED + timedelta(days=365),
    )
    assert (later.changed, later.birthday.month, later.birthday.day) == (True, 4, 1)
    with pytest.raises(InvalidRequest):
        await set_birthday(
            SqlUnitOfWork(database),
            member_id=member.id,
            month=2,
            day=30,
            now=JOINED + timedelta(days=800),
        )
    leap = await set_birthday(
        SqlUnitOfWork(database),
        member_id=member.id,
        month=2,
        day=29,
        now=JOINED + timedelta(days=800),
    )
    assert leap.changed


async def test_paid_from_10_on_the_members_clock_once(database, treating):
    tokyo = await member_born(database, treating, 1, 3, 10, "Asia/Tokyo")
    new_york = await member_born(database, treating, 2, 3, 10)  # the program's zone
    assert await paid(database, treating, "2026-03-10 00:59") == ()  # 09:59 in Tokyo
    assert await paid(database, treating, "2026-03-10 01:00") == (tokyo,)  # 10:00 in Tokyo
    assert await paid(database, treating, "2026-03-10 05:00") == ()  # once
    assert await paid(database, treating, "2026-03-10 13:59") == ()  # 09:59 in New York
    assert await paid(database, treating, "2026-03-10 14:00") == (new_york,)
    assert await paid(database, treating, "2026-03-11 03:00") == ()  # 23:00 on the 10th
    async with SqlUnitOfWork(database, read_only=True) as uow:
        history = await uow.ledger.history(tokyo, 5, 0)
    assert (history[0].kind, history[0].points, history[0].reference) == (
        "birthday",
        100,
        "birthday:2026",
    )
    async with database.reader.connect() as conn:
        notes = (
            await conn.execute(
                select(OutboxRow.c.member_id, OutboxRow.c.template, OutboxRow.c.context).order_by(
                    OutboxRow.c.id
                )
            )
        ).all()
        vouchers = (
            await conn.execute(
                select(
                    VoucherRow.c.member_id,
                    VoucherRow.c.reward_id,
                    VoucherRow.c.cost,
                    VoucherRow.c.code,
                )
            )
        ).all()
    assert [(n.member_id, n.template) for n in notes] == [
        (tokyo, "birthday_bonus"),
        (new_york, "birthday_bonus"),
    ]
    context = notes[0].context
    assert (context["points"], context["balance"], context["reward"], context["zone"]) == (
        100,
        150,
        "coffee",
        "Asia/Tokyo",
    )
    assert context["code"] == next(v.code for v in vouchers if v.member_id == tokyo)
    assert sorted((v.member_id, v.reward_id, v.cost) for v in vouchers) == [
        (tokyo, "coffee", 0),
        (new_york, "coffee", 0),
    ]
    assert await check_invariants(database) == []


async def test_never_in_quiet_hours(database, treating):
    late_mornings = replace(
        treating, nudges=replace(treating.nudges, quiet_hours=(time(9), time(12)))
    )
    member = await member_born(database, late_mornings, 1, 3, 10, "Europe/Madrid")
    assert await paid(database, late_mornings, "2026-03-10 09:00") == ()  # 10:00, quiet
    assert await paid(database, late_mornings, "2026-03-10 10:59") == ()  # 11:59, quiet
    assert await paid(database, late_mornings, "2026-03-10 11:00") == (member,)  # 12:00


async def test_not_before_min_member_days(database, treating):
    newcomer = await member_born(
        database, treating, 1, 3, 10, "UTC", joined=at("2026-02-09 12:00")
    )  # 29 days before
    old_hand = await member_born(
        database, treating, 2, 3, 10, "UTC", joined=at("2026-02-08 12:00")
    )  # 30 days before
    assert await paid(database, treating, "2026-03-10 12:00") == (old_hand,)
    assert await balance(SqlUnitOfWork(database), await _member(database, newcomer)) == 50


async def _member(database, member_id: int):
    async with SqlUnitOfWork(database, read_only=True) as uow:
        return await uow.members.get(member_id)


async def test_once_a_year_even_with_a_new_date(database, treating):
    member = await member_born(database, treating, 1, 3, 2, "UTC", joined=at("2025-01-01 12:00"))
    assert await paid(database, treating, "2025-03-02 10:00") == (member,)
    assert await paid(database, treating, "2026-03-02 10:00") == (member,)  # a year on
    moved = await set_birthday(
        SqlUnitOfWork(database), member_id=member, month=3, day=5, now=at("2026-03-02 11:00")
    )  # set over a year ago: allowed
    assert moved.changed
    assert await paid(database, treating, "2026-03-05 10:00") == ()  # 2026 was paid
    assert await paid(database, treating, "2027-03-05 10:00") == (member,)
    assert await balance(SqlUnitOfWork(database), await _member(database, member)) == 350


async def test_29_february_on_28_february_of_a_common_year(database, treating):
    member = await member_born(database, treating, 1, 2, 29, "UTC")
    assert await paid(database, treating, "2027-02-28 10:00") == (member,)
    assert await paid(database, treating, "2027-03-01 10:00") == ()
    assert await paid(database, treating, "2028-02-28 10:00") == ()  # a leap year: the 29th
    assert await paid(database, treating, "2028-02-29 10:00") == (member,)
    assert (2, 29, 2027) in days_today(at("2027-02-28 10:00"))


async def test_runs_at_once_pay_once_and_forgotten_members_are_not_paid(database, treating):
    member = await member_born(database, treating, 1, 3, 10, "UTC")
    gone = await member_born(database, treating, 2, 3, 10, "UTC")
    await forget(SqlUnitOfWork(database), gone, at("2026-03-01 10:00"))
    assert await member_birthday(SqlUnitOfWork(database), gone) is None  # personal data
    runs = await asyncio.gather(
        *(
            pay_birthdays(SqlUnitOfWork(database), treating, at("2026-03-10 10:00"))
            for _ in range(4)
        )
    )
    assert sorted(run.paid for run in runs) == [(), (), (), (member,)]
    assert await balance(SqlUnitOfWork(database), await _member(database, member)) == 150
    assert await check_invariants(database) == []


async def test_no_birthday_action_pays_nothing(database, program):
    await member_born(database, program, 1, 3, 10, "UTC")
    run = await pay_birthdays(SqlUnitOfWork(database), program, at("2026-03-10 10:00"))
    assert (run.checked, run.paid) == (0, ())
