"""Round-up donations: a member chooses a cause in /donate, and from then on each purchase's
points are rounded down to a multiple of `[donations] round_up_to`, the remainder given to
that cause in the purchase's own transaction (37 earned: 30 kept, 7 donated).

The purchase pipeline reads the run's members' choices with their locked accounts (one read,
`MemberAccount.round_up`), splits
each receipt's points in memory (`RoundUpRun.split`) and writes the donations after the
receipts' credits (`RoundUpRun.write`): a `donation` debit taken from the receipt's own lot
and its donation row, as a donation in /donate. A refund takes back its share of the points
the member kept (`kept_points`); what was given stays with the cause.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import NotFound
from domain.ledger import EntryKind
from domain.models import PurchaseRecord
from domain.ports import Posting, UnitOfWork
from domain.program import Cause, Program
from domain.roundup import round_up


@dataclass(frozen=True)
class _Gift:
    """A receipt's remainder for a cause, and the index of the receipt's first credit."""

    member_id: int
    cause_id: str
    points: int
    lot: int


@dataclass
class RoundUpRun:
    """The round-up causes of a run's members, and the gifts its receipts make."""

    program: Program
    causes: Mapping[int, str]  # member id -> the cause they chose
    gifts: list[_Gift] = field(default_factory=list)

    def split(self, member_id: int, points: int, lot: int | None) -> dict[str, object]:
        """Round a receipt's points down for the member's cause: the answer's `round_up`
        line (cause, kept, donated), or nothing when they do not round up or nothing is
        left over. `lot` is the index of the receipt's first credit."""
        cause = self.program.cause(self.causes.get(member_id, ""))
        split = round_up(points, self.program.donations.round_up_to)
        if cause is None or lot is None or not split.donated:
            return {}
        self.gifts.append(_Gift(member_id, cause.id, split.donated, lot))
        return {"round_up": {"cause": cause.id, "kept": split.kept, "donated": split.donated}}

    async def write(self, uow: UnitOfWork, lot_ids: Sequence[int], now: datetime) -> None:
        """Give the remainders: each a donation debit from its receipt's lot, and its row."""
        for gift in self.gifts:
            posting = Posting(
                gift.member_id, EntryKind.DONATION, now, reference=f"cause:{gift.cause_id}"
            )
            posted = await uow.ledger.debit(posting, gift.points, prefer_lot_id=lot_ids[gift.lot])
            await uow.causes.add_donation(
                gift.member_id, gift.cause_id, gift.points, posted.transaction_id, now, None
            )
        self.gifts = []


def donated(answer: Mapping[str, object]) -> int:
    """The points a receipt's answer gave to the round-up cause (0 without one)."""
    line = answer.get("round_up")
    return int(str(line["donated"])) if isinstance(line, dict) else 0


def kept_points(purchase: PurchaseRecord) -> int:
    """The points of a receipt the member kept: what a refund takes back its share of."""
    return purchase.points_awarded - donated(purchase.answer or {})


async def round_up_cause(uow: UnitOfWork, program: Program, member_id: int) -> Cause | None:
    """The cause the member rounds up for, if it is still in the program."""
    async with uow:
        chosen = await uow.causes.round_up_causes([member_id])
    return program.cause(chosen.get(member_id, ""))


async def choose_round_up(
    uow: UnitOfWork, program: Program, *, member_id: int, cause_id: str | None, now: datetime
) -> Cause | None:
    """Round up for `cause_id` from now on, or stop (None); NotFound for an unknown cause."""
    cause = None if cause_id is None else program.cause(cause_id)
    if cause_id is not None and cause is None:
        raise NotFound("cause", cause_id)
    async with uow:
        member = await uow.members.lock(member_id)
        if member is None or member.forgotten_at is not None:
            raise NotFound("member", member_id)
        await uow.causes.set_round_up(member_id, cause_id, now)
    return cause
