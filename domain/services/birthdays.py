"""Birthdays: a member sets theirs (day and month) in /settings, once a year at most; the
scheduler pays the program's `birthday` action on the day.

The job asks storage for members whose birthday is a date that is today somewhere on
Earth and whom the action has not paid for that year, then keeps those for whom it is
their birthday, 10:00 or later on their own clock and outside the quiet hours
(`domain.actions.birthday_due`). Each is paid in its own transaction whose claim row is
keyed by member, action and member-local year: re-runs, a second process or a birthday
changed to a later day never pay twice in a year. The message goes through the outbox.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.actions import BIRTHDAY_CHANGE_DAYS, birthday_due
from domain.errors import DuplicateKey, InvalidRequest, NotFound
from domain.ledger import EntryKind, add_months
from domain.ports import Birthday, BirthdayCandidate, Posting, UnitOfWork
from domain.program import Action, Program
from domain.services.gifts import bonus_voucher

LEAP_YEAR = 2000  # a birthday is checked as a date of this year, so 29 February is one


@dataclass(frozen=True)
class BirthdaySet:
    """The birthday as stored after a try to set it; `changed` is False when it was set
    less than a year ago (then it is the one kept, and `changeable_from` says when)."""

    birthday: Birthday
    changed: bool

    @property
    def changeable_from(self) -> datetime:
        """The moment the member may change it again."""
        return self.birthday.set_at + timedelta(days=BIRTHDAY_CHANGE_DAYS)


@dataclass(frozen=True)
class BirthdayRun:
    """One run of the job: how many members' birthdays were checked, and who was paid."""

    checked: int
    paid: tuple[int, ...]


def birthday_action(program: Program) -> Action | None:
    """The program's birthday action, if it has one."""
    return next((a for a in program.actions if a.kind == "birthday"), None)


def check_birthday(month: int, day: int) -> date:
    """The day and month as a date (in a leap year); InvalidRequest when there is no such day."""
    try:
        return date(LEAP_YEAR, month, day)
    except ValueError:
        raise InvalidRequest(f"no birthday on day {day} of month {month}") from None


async def member_birthday(uow: UnitOfWork, member_id: int) -> Birthday | None:
    """The member's birthday, None when they have not set one."""
    async with uow:
        return await uow.birthdays.get(member_id)


async def set_birthday(
    uow: UnitOfWork, *, member_id: int, month: int, day: int, now: datetime
) -> BirthdaySet:
    """Set the member's birthday, or change it if it was set a year ago or more."""
    check_birthday(month, day)
    async with uow:
        member = await uow.members.get(member_id)
        if member is None or member.forgotten_at is not None:
            raise NotFound("member", member_id)
        changed = await uow.birthdays.put(
            member_id, month, day, now, now - timedelta(days=BIRTHDAY_CHANGE_DAYS)
        )
        stored = await uow.birthdays.get(member_id)
    assert stored is not None
    return BirthdaySet(stored, changed)


def days_today(now: datetime) -> list[tuple[int, int, int]]:
    """(month, day, year) of every birthday that is today in some time zone: the UTC
    date and the days either side; 29 February on a 28 February of a common year."""
    days = []
    for offset in (-1, 0, 1):
        today = (now.astimezone(UTC) + timedelta(days=offset)).date()
        days.append((today.month, today.day, today.year))
        if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
            days.append((2, 29, today.year))
    return days


async def pay_birthdays(uow: UnitOfWork, program: Program, now: datetime) -> BirthdayRun:
    """Pay the birthday action to every member due it at `now`, once per member-local year."""
    action = birthday_action(program)
    if action is None:
        return BirthdayRun(0, ())
    async with uow:
        candidates = await uow.birthdays.due(action.id, days_today(now))
    paid = []
    for candidate in candidates:
        zone = candidate.timezone or program.info.timezone
        due = birthday_due(
            action,
            birthday=candidate.birthday,
            joined_at=candidate.joined_at,
            now=now,
            timezone=zone,
            quiet_hours=program.nudges.quiet_hours,
            last_paid_year=None,
        )  # storage left out those paid this year
        if due and await _pay(uow, program, action, candidate, zone, now):
            paid.append(candidate.member_id)
    return BirthdayRun(len(candidates), tuple(paid))


async def _pay(
    uow: UnitOfWork,
    program: Program,
    action: Action,
    candidate: BirthdayCandidate,
    zone: str,
    now: datetime,
) -> bool:
    """The points and the voucher, their claim for this member-local year and the message,
    in one transaction; False when someone (another run) paid this year first."""
    year = str(now.astimezone(ZoneInfo(zone)).year)
    try:
        async with uow:
            member = await uow.members.lock(candidate.member_id)
            if member is None or member.forgotten_at is not None:
                return False
            claim_id = await uow.action_claims.add(member.id, action.id, year, "paid", now)
            if claim_id is None:
                return False
            transaction_id, balance = None, await uow.ledger.balance(member.id)
            if action.points:
                posting = Posting(member.id, EntryKind.BIRTHDAY, now, reference=f"birthday:{year}")
                posted = await uow.ledger.credit(
                    posting, action.points, add_months(now, program.expiry.months)
                )
                transaction_id, balance = posted.transaction_id, posted.balance
            voucher = await bonus_voucher(uow, program, member, action.reward, "birthday", now)
            await uow.action_claims.settle(
                claim_id, action.points, transaction_id, voucher.id if voucher else None
            )
            await uow.outbox.add(
                member.id,
                "birthday_bonus",
                {
                    "points": action.points,
                    "balance": balance,
                    "reward": voucher.reward_id if voucher else None,
                    "code": voucher.code if voucher else None,
                    "expires_at": voucher.expires_at.isoformat() if voucher else None,
                    "zone": zone,
                },
                now,
                dedupe_key=f"birthday:{year}:{member.id}",
            )
    except DuplicateKey:
        return False  # another process paid this member first
    return True
