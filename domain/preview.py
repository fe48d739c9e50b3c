"""What a sale typed in chat will earn, worked out before it is recorded (pure arithmetic).

The cashier's confirmation shows it; recording the sale awards through the purchase
pipeline, which applies the same earning rules to the same line.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.earning import Earner, Purchase, PurchaseLine
from domain.models import Member
from domain.program import Program
from domain.promotions import promoted_earning

SALE_PRODUCT = "sale"  # the product id of a sale typed in chat: one line, quantity one


def preview_points(
    program: Program,
    member: Member | None,
    category: str,
    amount: Decimal,
    at: datetime | None = None,
) -> int:
    """Points a sale of `amount` in `category` earns `member` (a phone nobody has yet is held
    at the lowest tier); made `at`, with the promotions running then."""
    tier = program.tiers.get(member.tier) if member else program.tiers.levels[0]
    purchase = Purchase((PurchaseLine(SALE_PRODUCT, category, 1, amount),))
    if at is None:
        return Earner(program.earning).earn(purchase, tier).points
    return promoted_earning(program, purchase, tier, at).points
