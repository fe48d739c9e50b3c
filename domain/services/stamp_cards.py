"""Stamp cards on the purchase path: a receipt stamps its member's cards, and the receipt
that fills a card issues the card's reward voucher in the same transaction.

The purchase pipeline loads the cards of a run's members once (`StampRun.load`, after their
accounts are locked), stamps them receipt by receipt in memory (`StampRun.stamp`, which
gives the lines of the till's answer), and writes them back in one statement with the
vouchers due (`StampRun.write`). Each voucher's request id is the card and its filled
count (`stamp:<card>:<n>`): the member's unique key on it makes every card issue once.
A refund takes its share of the receipt's stamps back (`take_back_stamps`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.codes import VOUCHER_CODE_LENGTH, format_code, new_code
from domain.earning import PurchaseLine, clawback
from domain.models import Member, PurchaseRecord, Voucher
from domain.ports import StampState, UnitOfWork
from domain.program import Program, StampCard
from domain.stamps import VOUCHER_REQUEST, add_stamps, stamps_for

log = logging.getLogger(__name__)

CardKey = tuple[int, str]  # member id, card id


@dataclass
class _Due:
    """A voucher a filled card issues, and the line of the answer that shows it."""

    voucher: Voucher
    shown: dict[str, object]


@dataclass
class StampRun:
    """The stamp cards of a run's members as its receipts leave them."""

    program: Program
    cards: dict[CardKey, StampState]
    changed: dict[CardKey, StampState] = field(default_factory=dict)
    due: list[_Due] = field(default_factory=list)

    @classmethod
    async def load(cls, uow: UnitOfWork, program: Program, member_ids: Collection[int]) -> StampRun:
        """The members' cards in one read (none when the program has no stamp cards)."""
        found = await uow.stamps.cards(member_ids) if program.stamps and member_ids else []
        return cls(program, {(s.member_id, s.card_id): s for s in found})

    def stamp(
        self, member: Member, lines: Sequence[PurchaseLine], now: datetime
    ) -> dict[str, object]:
        """Stamp the member's cards with a receipt's lines: the answer's `stamps` lines
        (each card stamped, its stamps now and the vouchers it issued), or nothing."""
        shown: list[dict[str, object]] = []
        for card in self.program.stamps:
            earned = stamps_for(card, lines)
            if earned:
                shown.append(self._add(member, card, earned, now))
        return {"stamps": shown} if shown else {}

    def _add(
        self, member: Member, card: StampCard, earned: int, now: datetime
    ) -> dict[str, object]:
        key = (member.id, card.id)
        before = self.cards.get(key, StampState(member.id, card.id, 0, 0))
        after = add_stamps(card, before.stamps, earned)
        state = StampState(member.id, card.id, after.stamps, before.filled + after.filled)
        self.cards[key] = self.changed[key] = state
        vouchers = [
            self._voucher(member, card, filled, now)
            for filled in range(before.filled + 1, state.filled + 1)
        ]
        return {
            "card": card.id,
            "earned": earned,
            "stamps": state.stamps,
            "count": card.count,
            "vouchers": vouchers,
        }

    def _voucher(
        self, member: Member, card: StampCard, filled: int, now: datetime
    ) -> dict[str, object]:
        """The voucher of the card's `filled`-th full card, due to be written; shown with
        the day it expires on the member's clock."""
        reward = self.program.reward(card.reward)
        valid_days = reward.valid_days if reward is not None else 0
        voucher = Voucher(
            id=0,
            code=new_code(VOUCHER_CODE_LENGTH),
            member_id=member.id,
            reward_id=card.reward,
            cost=0,
            issued_at=now,
            expires_at=now + timedelta(days=valid_days),
            used_at=None,
            used_by=None,
            request_id=f"{VOUCHER_REQUEST}{card.id}:{filled}",
        )
        zone = ZoneInfo(member.timezone or self.program.info.timezone)
        shown: dict[str, object] = {
            "reward": card.reward,
            "code": format_code(voucher.code),
            "expires_on": voucher.expires_at.astimezone(zone).date().isoformat(),
        }
        self.due.append(_Due(voucher, shown))
        return shown

    async def write(self, uow: UnitOfWork, now: datetime) -> None:
        """Write the cards stamped (one statement) and issue the vouchers due, each taken
        from its reward's stock; one out of stock is shown without a code."""
        await uow.stamps.put_many(list(self.changed.values()), now)
        for due in self.due:
            reward = self.program.reward(due.voucher.reward_id)
            if reward is not None and await uow.rewards.take_stock(reward.id, reward.stock):
                await uow.rewards.add_voucher(due.voucher)
            else:
                log.warning(
                    "stamp card of member %s: %s is out of stock, no voucher",
                    due.voucher.member_id,
                    due.voucher.reward_id,
                )
                due.shown["code"] = None
        self.changed, self.due = {}, []


async def take_back_stamps(
    uow: UnitOfWork, purchase: PurchaseRecord, amount: Decimal, now: datetime
) -> None:
    """Take back a refund's share of the stamps the receipt earned, from the current card
    only (never below zero; vouchers already issued stay)."""
    for line in stamp_lines(purchase.answer):
        earned = int(str(line["earned"]))
        due = clawback(earned, purchase.total, purchase.refunded, amount)
        if due:
            await uow.stamps.take_back(purchase.member_id, str(line["card"]), due, now)


def stamp_lines(answer: dict[str, object] | None) -> list[dict[str, object]]:
    """The `stamps` lines of a receipt's answer (none for answers before stamp cards)."""
    lines = (answer or {}).get("stamps")
    return lines if isinstance(lines, list) else []


async def member_cards(
    uow: UnitOfWork, program: Program, member_id: int
) -> list[tuple[StampCard, int]]:
    """Every stamp card of the program with the stamps on the member's current card."""
    async with uow:
        found = {s.card_id: s.stamps for s in await uow.stamps.cards([member_id])}
    return [(card, found.get(card.id, 0)) for card in program.stamps]
