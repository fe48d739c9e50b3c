"""Challenges: joining one, settling members' progress after their receipts or friends moved
it, what /challenges shows, and the standings the `challenge_ending` nudge reads.

Progress is never stored: it is counted from the purchases (and qualified friends) inside
each window whenever it is needed, so a refund undoes it by itself. What is stored is who
joined an opt-in challenge (a rolling one's window starts there; without `opt_in`, a
rolling window starts when the member joined the program) and, per member, challenge and
window, what the member was told: halfway once, and completion once, whose unique key
pays the reward once also when two purchases complete it at the same time. A completed
window keeps its reward whatever a later refund does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from domain.challenges import (
    ChallengeReceipt,
    Progress,
    Window,
    challenge_progress,
    challenge_window,
    progress_news,
)
from domain.errors import NotFound
from domain.ledger import EntryKind, add_months
from domain.models import Member
from domain.ports import ChallengeMark, Posting, UnitOfWork
from domain.program import Challenge, Program
from domain.services.gifts import bonus_voucher


@dataclass(frozen=True)
class Standing:
    """One challenge as it stands for a member: its window (None: an opt-in challenge the
    member has not joined, or whose rolling window ended), progress once the window has
    started, and whether this window was completed (and halfway told)."""

    challenge: Challenge
    window: Window | None
    progress: Progress | None
    completed: bool = False
    halfway_told: bool = False

    @property
    def joinable(self) -> bool:
        """The member may tap "Join"."""
        return self.challenge.opt_in and self.window is None

    def told(self) -> Progress:
        """What the member was last told, as progress: nothing, halfway or completed."""
        target = self.challenge.target
        if self.completed:
            return Progress(target, target)
        return Progress(target / 2 if self.halfway_told else Decimal(0), target)


@dataclass(frozen=True)
class Joined:
    """What tapping "Join" came to: `new` is False when the member was in already."""

    challenge: Challenge
    new: bool


@dataclass
class _Facts:
    """What standings are worked out from, for a range of members."""

    marks: dict[tuple[int, str, datetime], ChallengeMark]
    receipts: dict[int, list[ChallengeReceipt]]
    friends: dict[int, list[datetime]]


async def settle_challenges(
    uow: UnitOfWork, program: Program, members: Sequence[Member], now: datetime
) -> None:
    """Inside the caller's transaction, after the members' receipts or friends changed:
    tell each member of halfway and completion once per window, and reward completion."""
    if not program.challenges or not members:
        return
    for member, standings in zip(
        members, await _standings_of(uow, program, members, now), strict=True
    ):
        for standing in standings:
            await _settle(uow, program, member, standing, now)


async def join_challenge(
    uow: UnitOfWork, program: Program, *, member: Member, challenge_id: str, now: datetime
) -> Joined:
    """Join an opt-in challenge once (a rolling one again once its window ended unfinished;
    one completed is never joined again), settling it at once: a fixed window counts the
    receipts made in it before joining. NotFound for a challenge that is not opt-in, not in
    the program or over."""
    challenge = program.challenge(challenge_id)
    if challenge is None or not challenge.opt_in or _over(challenge, program, now):
        raise NotFound("challenge", challenge_id)
    rejoin_before = None if challenge.days is None else now - timedelta(days=challenge.days)
    async with uow:
        locked = await uow.members.lock(member.id)
        if locked is None or locked.forgotten_at is not None:
            raise NotFound("member", member.id)
        marks = await uow.challenges.marks(member.id, member.id)
        done = any(m.challenge_id == challenge.id and m.completed_at for m in marks)
        new = not done and await uow.challenges.join(member.id, challenge.id, now, rejoin_before)
        if new:
            await settle_challenges(uow, program, [locked], now)
    return Joined(challenge, new)


async def challenge_board(
    uow: UnitOfWork, program: Program, member: Member, now: datetime
) -> list[Standing]:
    """The challenges /challenges shows the member: the open and coming ones, and those
    they may join (over ones and ended automatic windows left out)."""
    async with uow:
        standings = await _standings(uow, program, member, now)
    return [
        s
        for s in standings
        if not _over(s.challenge, program, now) and (s.window is None or now < s.window.ends)
    ]


async def ending_standings(
    uow: UnitOfWork,
    program: Program,
    first_id: int,
    last_id: int,
    members: Mapping[int, datetime],
    now: datetime,
    days: int,
) -> dict[int, list[Standing]]:
    """Inside the caller's transaction, for members `first_id`..`last_id` (`members`: when
    each joined the program): the standings of their windows that end within `days` days."""
    if not members or not program.challenges:
        return {}
    joined = await _joined(uow, program, first_id, last_id)
    windows = {
        member_id: [
            (c, w)
            for c, w in _windows(program, member_id, joined_at, joined)
            if w is not None and w.ends_within(now, days)
        ]
        for member_id, joined_at in members.items()
    }
    spans = [w for found in windows.values() for _, w in found]
    if not spans:
        return {}
    facts = await _facts(uow, program, first_id, last_id, spans)
    return {
        member_id: [_standing(program, member_id, c, w, facts, now) for c, w in found]
        for member_id, found in windows.items()
        if found
    }


# -- working standings out ---------------------------------------------------------------


async def _standings(
    uow: UnitOfWork, program: Program, member: Member, now: datetime
) -> list[Standing]:
    """Every challenge of the program as it stands for the member at `now`."""
    return (await _standings_of(uow, program, [member], now))[0]


async def _standings_of(
    uow: UnitOfWork, program: Program, members: Sequence[Member], now: datetime
) -> list[list[Standing]]:
    """`_standings` of each member, in order, read for all of them at once (the same
    statements for a run's buyers as for one member)."""
    ids = {member.id for member in members}
    first, last = min(ids), max(ids)
    joined = await _joined(uow, program, first, last, ids)
    windows = [_windows(program, m.id, m.joined_at, joined) for m in members]
    started = [w for found in windows for _, w in found if w is not None and w.starts <= now]
    facts = await _facts(uow, program, first, last, started, ids)
    return [
        [
            _standing(program, member.id, c, w, facts, now)
            if w is not None
            else Standing(c, None, None)
            for c, w in found
        ]
        for member, found in zip(members, windows, strict=True)
    ]


async def _joined(
    uow: UnitOfWork,
    program: Program,
    first_id: int,
    last_id: int,
    among: Collection[int] | None = None,
) -> dict[tuple[int, str], datetime]:
    """When the members joined each opt-in challenge (no read when none is opt-in)."""
    if not any(c.opt_in for c in program.challenges):
        return {}
    joins = await uow.challenges.joins(first_id, last_id, among=among)
    return {(j.member_id, j.challenge_id): j.joined_at for j in joins}


def _windows(
    program: Program,
    member_id: int,
    joined_program_at: datetime,
    joined: dict[tuple[int, str], datetime],
) -> list[tuple[Challenge, Window | None]]:
    """Each challenge's window for the member: None for an opt-in one not joined."""
    zone = program.info.timezone
    found: list[tuple[Challenge, Window | None]] = []
    for challenge in program.challenges:
        joined_at = joined.get((member_id, challenge.id))
        if challenge.opt_in and joined_at is None:
            found.append((challenge, None))
        else:
            found.append(
                (challenge, challenge_window(challenge, zone, joined_at or joined_program_at))
            )
    return found


async def _facts(
    uow: UnitOfWork,
    program: Program,
    first: int,
    last: int,
    windows: Sequence[Window],
    among: Collection[int] | None = None,
) -> _Facts:
    """The marks, and the receipts and friends over the span of `windows` (none when no
    window has started), of members `first`..`last` (only those `among` them if given)."""
    receipts: dict[int, list[ChallengeReceipt]] = defaultdict(list)
    friends: dict[int, list[datetime]] = defaultdict(list)
    marks: dict[tuple[int, str, datetime], ChallengeMark] = {}
    if windows:
        since, until = min(w.starts for w in windows), max(w.ends for w in windows)
        found = await uow.challenges.receipts(first, last, since, until, among=among)
        for member_id, receipt in found:
            receipts[member_id].append(receipt)
        if any(c.kind == "referrals" for c in program.challenges):
            friended = await uow.challenges.friends(first, last, since, until, among=among)
            for member_id, moment in friended:
                friends[member_id].append(moment)
        marks = {
            (m.member_id, m.challenge_id, m.window_start): m
            for m in await uow.challenges.marks(first, last, among=among)
        }
    return _Facts(marks, receipts, friends)


def _standing(
    program: Program,
    member_id: int,
    challenge: Challenge,
    window: Window,
    facts: _Facts,
    now: datetime,
) -> Standing:
    """One challenge's standing in `window` (no progress before the window starts)."""
    if now < window.starts:
        return Standing(challenge, window, None)
    mark = facts.marks.get((member_id, challenge.id, window.starts))
    completed = mark is not None and mark.completed_at is not None
    if challenge.opt_in and challenge.days is not None and window.ends <= now and not completed:
        return Standing(challenge, None, None)  # ended unfinished: they may join again
    progress = challenge_progress(
        challenge,
        window,
        facts.receipts.get(member_id, ()),
        timezone=program.info.timezone,
        now=now,
        referrals=facts.friends.get(member_id, ()),
    )
    return Standing(
        challenge,
        window,
        progress,
        completed=completed,
        halfway_told=mark is not None and mark.halfway_at is not None,
    )


def _over(challenge: Challenge, program: Program, now: datetime) -> bool:
    """Whether a fixed challenge's window has ended."""
    if challenge.days is not None:
        return False
    window = challenge_window(challenge, program.info.timezone)
    return window is not None and window.ends <= now


# -- telling and rewarding ---------------------------------------------------------------


async def _settle(
    uow: UnitOfWork, program: Program, member: Member, standing: Standing, now: datetime
) -> None:
    """Tell the member of halfway or completion, once, and reward completion once."""
    window, progress = standing.window, standing.progress
    if window is None or progress is None or standing.completed:
        return
    news = progress_news(standing.told(), progress)
    challenge = standing.challenge
    if news == "halfway":
        if await uow.challenges.mark_halfway(member.id, challenge.id, window.starts, now):
            await uow.outbox.add(
                member.id,
                "challenge_halfway",
                {
                    "challenge": challenge.id,
                    "kind": challenge.kind,
                    "current": str(progress.current),
                    "target": str(progress.target),
                    "last_day": window.last_day(program.info.timezone),
                },
                now,
            )
    elif news == "completed" and await uow.challenges.complete(
        member.id, challenge.id, window.starts, now
    ):
        await _reward(uow, program, member, challenge, window, now)


async def _reward(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    challenge: Challenge,
    window: Window,
    now: datetime,
) -> None:
    """The bonus points and the voucher of a completed window, and the message."""
    transaction_id, balance = None, await uow.ledger.balance(member.id)
    if challenge.bonus:
        posting = Posting(
            member.id,
            EntryKind.CHALLENGE,
            now,
            reason=challenge.id,
            reference=f"challenge:{challenge.id}:{window.starts:%Y%m%dT%H%M%S}",
        )
        posted = await uow.ledger.credit(
            posting, challenge.bonus, add_months(now, program.expiry.months)
        )
        transaction_id, balance = posted.transaction_id, posted.balance
    voucher = await bonus_voucher(
        uow, program, member, challenge.reward, f"challenge {challenge.id}", now
    )
    await uow.challenges.settle(
        member.id,
        challenge.id,
        window.starts,
        challenge.bonus,
        transaction_id,
        voucher.id if voucher else None,
    )
    await uow.outbox.add(
        member.id,
        "challenge_completed",
        {
            "challenge": challenge.id,
            "points": challenge.bonus,
            "balance": balance,
            "reward": voucher.reward_id if voucher else None,
            "code": voucher.code if voucher else None,
            "expires_at": voucher.expires_at.isoformat() if voucher else None,
        },
        now,
    )
