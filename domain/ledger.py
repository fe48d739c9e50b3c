"""Points as an append-only ledger of lots.

Every earn opens a lot with its own expiry; spends, clawbacks, expiry and negative
adjustments are entries against lots. Spends consume lots soonest-expiry first, so a
member never loses points that could have been used. The balance is the sum of entries.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import InsufficientPoints


class EntryKind(StrEnum):
    """Why points moved; stored with each ledger transaction."""

    SIGNUP = "signup"
    PURCHASE = "purchase"
    REFUND = "refund"
    REFERRAL_INVITEE = "referral_invitee"
    REFERRAL = "referral"
    REFERRAL_MILESTONE = "referral_milestone"
    REDEMPTION = "redemption"
    DONATION = "donation"
    ADJUSTMENT = "adjustment"
    EXPIRY = "expiry"
    SURPRISE = "surprise"
    FORFEIT = "forfeit"
    BONUS = "bonus"
    ACTION = "action"  # an action that earns once: a channel joined, a link, a phone shared
    BIRTHDAY = "birthday"  # the yearly birthday bonus
    CHALLENGE = "challenge"  # a challenge completed: its bonus, once per member and window
    PROMOTION = "promotion"  # a promotion's extra points on a receipt (its id as the reason)


@dataclass(frozen=True)
class Lot:
    """Points earned together, spendable until `expires_at`."""

    id: int
    remaining: int
    expires_at: datetime


@dataclass(frozen=True)
class Take:
    """Points taken from one lot by a spend."""

    lot_id: int
    points: int


def allocate(lots: Sequence[Lot], points: int, prefer_lot_id: int | None = None) -> list[Take]:
    """Which lots pay for `points`: `prefer_lot_id` first, then soonest expiry, then oldest.

    Raises InsufficientPoints when the lots together hold less than `points`.
    """
    if points <= 0:
        raise ValueError(f"allocate needs a positive amount, got {points}")
    available = sum(lot.remaining for lot in lots)
    if available < points:
        raise InsufficientPoints(needed=points, available=available)
    order = sorted(lots, key=lambda lot: (lot.id != prefer_lot_id, lot.expires_at, lot.id))
    takes, left = [], points
    for lot in order:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            takes.append(Take(lot.id, take))
            left -= take
    return takes


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus calendar months, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
