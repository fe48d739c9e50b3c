"""Finding who is due a nudge, and queueing it once per cause.

Members are screened in chunks of ids: one short transaction per chunk gathers their facts
with set-based queries, picks each one's nudge (`domain.nudges.NudgePicker`, set up once per
run) and fills in the favourite category of those offered a come-back nudge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from domain.nudges import ChallengeEnding, MemberFacts, Nudge, NudgePicker, with_category
from domain.ports import NewNotification, UnitOfWork
from domain.program import Program, Reward
from domain.services.challenges import ending_standings

CHUNK = 5_000


async def rewards_in_stock(uow: UnitOfWork, program: Program) -> list[Reward]:
    """The program's rewards that are not sold out."""
    async with uow:
        return [
            r
            for r in program.rewards
            if r.stock is None or await uow.rewards.issued(r.id) < r.stock
        ]


async def due_nudges(
    uow: UnitOfWork, program: Program, now: datetime, chunk: int = CHUNK
) -> AsyncIterator[list[Nudge]]:
    """Who would get which nudge at `now`, a chunk of members at a time; records nothing."""
    picker = NudgePicker(program, now, await rewards_in_stock(uow, program))
    async with uow:
        last = await uow.nudges.last_member_id()
    for first in range(1, last + 1, chunk):
        async with uow:
            nudges = await _pick(uow, picker, first, first + chunk - 1)
        if nudges:
            yield nudges


async def queue_nudges(uow: UnitOfWork, program: Program, now: datetime, chunk: int = CHUNK) -> int:
    """Log and queue every due nudge, one transaction per chunk; how many were queued.

    A nudge whose cause is already logged is skipped, so a re-run queues nothing twice.
    """
    picker = NudgePicker(program, now, await rewards_in_stock(uow, program))
    async with uow:
        last = await uow.nudges.last_member_id()
    queued = 0
    for first in range(1, last + 1, chunk):
        async with uow:
            nudges = await _pick(uow, picker, first, first + chunk - 1)
            fresh = await uow.nudges.record(nudges, now)
            await uow.outbox.add_many(
                [_notification(n) for n in nudges if n.member_id in fresh], now
            )
        queued += len(fresh)
    return queued


def _notification(nudge: Nudge) -> NewNotification:
    """A nudge's outbox row; the dedupe key names its cause, so it is never written twice."""
    return NewNotification(
        nudge.member_id,
        nudge.template,
        nudge.context,
        dedupe_key=f"nudge:{nudge.member_id}:{nudge.cause_key}",
    )


async def _pick(uow: UnitOfWork, picker: NudgePicker, first_id: int, last_id: int) -> list[Nudge]:
    """The nudges of members `first_id`..`last_id`, inside the caller's transaction."""
    program, now = picker.program, picker.now
    facts = await uow.nudges.facts(
        first_id,
        last_id,
        now,
        now + timedelta(days=program.expiry.warn_days),
        now - timedelta(days=program.tiers.window_days),
    )
    facts = await _with_challenges(uow, picker, first_id, last_id, facts)
    nudges = [n for f in facts if (n := picker.pick(f)) is not None]
    inactive = [n.member_id for n in nudges if n.kind == "inactive"]
    categories = await uow.nudges.favourite_categories(inactive)
    return [with_category(n, categories.get(n.member_id)) for n in nudges]


async def _with_challenges(
    uow: UnitOfWork,
    picker: NudgePicker,
    first_id: int,
    last_id: int,
    facts: list[MemberFacts],
) -> list[MemberFacts]:
    """The facts with the challenge windows ending soon, when `challenge_ending` is on."""
    rule = next((r for r in picker.rules if r.kind == "challenge_ending"), None)
    if rule is None or not facts:
        return facts
    joined = {f.member_id: f.joined_at for f in facts}
    ending = await ending_standings(
        uow, picker.program, first_id, last_id, joined, picker.now, rule.before_days or 0
    )
    return [
        f._replace(
            challenges_ending=tuple(
                ChallengeEnding(s.challenge.id, s.challenge.kind, s.window, s.progress, s.completed)
                for s in ending.get(f.member_id, ())
                if s.window is not None and s.progress is not None
            )
        )
        if f.member_id in ending
        else f
        for f in facts
    ]


async def note_invite_shown(uow: UnitOfWork, member_id: int, now: datetime) -> None:
    """Remember that a member has seen their invite link (no referral reminder after)."""
    async with uow:
        await uow.nudges.mark_invite_shown(member_id, now)
