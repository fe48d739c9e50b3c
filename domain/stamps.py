"""Stamp cards: purchases stamp a card; a full card issues its reward at once.

A member's state per card is the stamps on the current card (0 to count - 1). A receipt's
stamps go on it; every time it fills, one voucher is due and the stamps beyond carry over
to the next card. A refund takes back its stamps (the share `domain.earning.clawback`
works out, as for points) from the current card, never below zero; vouchers already issued
stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.earning import PurchaseLine
from domain.program import StampCard

VOUCHER_REQUEST = "stamp:"  # a full card's voucher has request id stamp:<card>:<n>


@dataclass(frozen=True)
class Stamped:
    """A card after a receipt: its stamps now and the cards it filled (vouchers due)."""

    stamps: int
    filled: int


def earns_stamp(card: StampCard, line: PurchaseLine) -> bool:
    """Whether a line counts for the card: its categories or SKUs, any line when it names
    neither."""
    if not card.categories and not card.skus:
        return True
    return line.category in card.categories or line.sku in card.skus


def stamps_for(card: StampCard, lines: Sequence[PurchaseLine]) -> int:
    """The stamps a receipt earns: one per unit of the lines that count, or one per receipt
    with at least one such line."""
    counted = [line for line in lines if earns_stamp(card, line) and line.quantity > 0]
    if card.per == "receipt":
        return 1 if counted else 0
    return sum(line.quantity for line in counted)


def add_stamps(card: StampCard, stamps: int, earned: int) -> Stamped:
    """The card with `earned` stamps added to the `stamps` on it."""
    total = stamps + earned
    return Stamped(stamps=total % card.count, filled=total // card.count)


def take_back(stamps: int, refunded: int) -> int:
    """The stamps left on the current card after a refund takes back `refunded`."""
    return max(0, stamps - refunded)
