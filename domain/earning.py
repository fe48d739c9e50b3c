"""Points and tier credits for one purchase.

Each `RewardCalculator` looks at a purchase and returns point grants with their reasons;
`Earner` adds them up, applies the member's tier multiplier and the program's rounding:

    points = rounding((spend points + item points + per-visit points) * tier multiplier)
    tier credits = floor(spend on lines whose category multiplier > 0 * tier_credits_per_unit)

A line whose category multiplier is 0 earns nothing at all: `Earner` gives the calculators
only the lines that earn, so such a line brings no item bonus, and a receipt made only of
such lines earns no visit points either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from domain.program import EarningRules, Rounding, Tier

_ROUNDING_MODES = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}
_ZERO, _ONE = Decimal(0), Decimal(1)


@dataclass(frozen=True)
class PurchaseLine:
    """One line of a receipt."""

    sku: str
    category: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        """What this line cost."""
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Purchase:
    """A receipt's lines; its total is what a refund is measured against."""

    lines: tuple[PurchaseLine, ...]
    total: Decimal = field(init=False, repr=False, compare=False)  # the receipt total

    def __post_init__(self) -> None:
        # worked out once: the replay asks for it several times per receipt
        object.__setattr__(self, "total", sum((line.amount for line in self.lines), _ZERO))


@dataclass(frozen=True)
class PointGrant:
    """Points (before tier multiplier and rounding) and why they were given."""

    reason: str
    detail: str
    points: Decimal


@dataclass(frozen=True)
class Earning:
    """The outcome for one purchase: whole points, tier credits and the breakdown."""

    points: int
    tier_credits: int
    grants: tuple[PointGrant, ...]
    tier_name: str
    tier_multiplier: Decimal


def round_points(value: Decimal, rounding: Rounding) -> int:
    """Round a Decimal number of points to an integer the program's way."""
    return int(value.quantize(_ONE, rounding=_ROUNDING_MODES[rounding]))


class RewardCalculator(ABC):
    """Turns a purchase into point grants; subclasses are one rule each."""

    @abstractmethod
    def grants(self, purchase: Purchase) -> list[PointGrant]:
        """The grants this rule gives for `purchase`."""


class SpendRewardCalculator(RewardCalculator):
    """Points for money spent: amount x points per unit."""

    def __init__(self, points_per_unit: Decimal) -> None:
        self.points_per_unit = points_per_unit

    def multiplier(self, line: PurchaseLine) -> Decimal:
        """How much a line's spend counts; 1 for every line here."""
        return Decimal(1)

    def grants(self, purchase: Purchase) -> list[PointGrant]:
        """One grant per category, in the order categories first appear."""
        by_category: dict[str, Decimal] = {}
        per_unit, multiplier = self.points_per_unit, self.multiplier
        for line in purchase.lines:
            points = line.amount * per_unit * multiplier(line)
            by_category[line.category] = by_category.get(line.category, _ZERO) + points
        return [PointGrant("spend", category, pts) for category, pts in by_category.items()]


class ProductTypeRewardCalculator(SpendRewardCalculator):
    """Spend points weighted by the product type (category) multiplier."""

    def __init__(self, rules: EarningRules) -> None:
        super().__init__(rules.points_per_unit)
        self.rules = rules

    def multiplier(self, line: PurchaseLine) -> Decimal:
        """The category's multiplier (1 when the program does not list it)."""
        return self.rules.category_multiplier(line.category)


class PerItemRewardCalculator(RewardCalculator):
    """A flat bonus for each unit of certain SKUs."""

    def __init__(self, rules: EarningRules) -> None:
        self.rules = rules

    def grants(self, purchase: Purchase) -> list[PointGrant]:
        """One grant per bonus SKU on the receipt."""
        result = []
        for line in purchase.lines:
            bonus = self.rules.item_points(line.sku)
            if bonus:
                result.append(PointGrant("item", line.sku, Decimal(bonus * line.quantity)))
        return result


class PerVisitRewardCalculator(RewardCalculator):
    """A fixed number of points for every purchase of at least one line."""

    def __init__(self, points: int) -> None:
        self.points = points
        self.grant = PointGrant("visit", "", Decimal(points))  # immutable: made once

    def grants(self, purchase: Purchase) -> list[PointGrant]:
        """The visit bonus, when the program has one and the purchase has lines."""
        return [self.grant] if (self.points and purchase.lines) else []


class Earner:
    """Combines the calculators of a program and applies the tier multiplier."""

    def __init__(self, rules: EarningRules) -> None:
        self.rules = rules
        self.calculators: Sequence[RewardCalculator] = (
            ProductTypeRewardCalculator(rules),
            PerItemRewardCalculator(rules),
            PerVisitRewardCalculator(rules.per_visit),
        )

    def earn(self, purchase: Purchase, tier: Tier) -> Earning:
        """Points and tier credits for `purchase` by a member in `tier`."""
        earning = self.earning_lines(purchase)
        grants: list[PointGrant] = []
        for calculator in self.calculators:
            grants += calculator.grants(earning)
        base = _ZERO
        for grant in grants:
            base += grant.points
        points = round_points(base * tier.multiplier, self.rules.rounding)
        return Earning(
            points, self._tier_credits(earning), tuple(grants), tier.name, tier.multiplier
        )

    def earning_lines(self, purchase: Purchase) -> Purchase:
        """The lines that earn: those whose category multiplier is above 0 (`purchase` itself
        when every line does, so its total is worked out once)."""
        idle = self.rules.idle_categories
        for line in purchase.lines:
            if line.category in idle:
                return Purchase(tuple(ln for ln in purchase.lines if ln.category not in idle))
        return purchase

    def _tier_credits(self, earning: Purchase) -> int:
        """Credits from the spend of `earning`, a purchase's earning lines (`earning_lines`)."""
        return int(
            (earning.total * self.rules.tier_credits_per_unit).to_integral_value(ROUND_FLOOR)
        )


def clawback(
    awarded: int, receipt_total: Decimal, refunded_before: Decimal, refunded_now: Decimal
) -> int:
    """What a refund takes back: floor(awarded x refunded / total), counted cumulatively.

    Counting on the running refunded total means several partial refunds add up to
    exactly the points of one full refund, never more.
    """
    if receipt_total <= 0:
        return 0

    def due(refunded: Decimal) -> int:
        return int((awarded * refunded / receipt_total).to_integral_value(ROUND_FLOOR))

    return due(refunded_before + refunded_now) - due(refunded_before)
