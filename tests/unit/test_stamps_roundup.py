"""Stamp cards across purchases and refunds, and round-up donations, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.earning import PurchaseLine, clawback
from domain.program import StampCard
from domain.roundup import RoundUp, round_up
from domain.stamps import Stamped, add_stamps, stamps_for, take_back

CARD = StampCard(id="coffee", title="Coffee card", count=6, reward="coffee", categories=("coffee",))
LATTES = PurchaseLine("LATTE", "coffee", 4, Decimal("3.50"))
BEANS = PurchaseLine("BEANS-1KG", "beans", 1, Decimal("18.00"))
SHOES = PurchaseLine("RUNNER", "shoes", 1, Decimal("50.00"))


def test_stamps_per_unit_per_receipt_and_by_sku() -> None:
    assert stamps_for(CARD, (LATTES, SHOES)) == 4
    assert stamps_for(CARD, (SHOES,)) == 0
    assert stamps_for(StampCard("v", "Visits", 10, "coffee", per="receipt"), (LATTES, SHOES)) == 1
    by_sku = StampCard("b", "Beans", 5, "coffee", categories=("coffee",), skus=("BEANS-1KG",))
    assert stamps_for(by_sku, (LATTES, BEANS, SHOES)) == 5  # 4 lattes + 1 bag
    assert stamps_for(StampCard("any", "Any", 3, "coffee"), (LATTES, SHOES)) == 5


def test_a_full_card_issues_its_reward_and_the_rest_carries_over() -> None:
    first = add_stamps(CARD, 0, stamps_for(CARD, (LATTES,)))
    assert first == Stamped(stamps=4, filled=0)  # ☕☕☕☕○○ 4/6
    second = add_stamps(CARD, first.stamps, 4)
    assert second == Stamped(stamps=2, filled=1)  # 8 = one full card + 2
    assert add_stamps(CARD, 2, 16) == Stamped(stamps=0, filled=3)  # 18 = three cards


def test_a_refund_takes_its_stamps_back_never_below_zero() -> None:
    # the receipt of 4 lattes (14.00) earned 4 stamps; half of it is refunded twice
    first = clawback(4, Decimal("14.00"), Decimal(0), Decimal("7.00"))
    second = clawback(4, Decimal("14.00"), Decimal("7.00"), Decimal("7.00"))
    assert (first, second) == (2, 2)
    assert take_back(4, first) == 2
    assert take_back(2, first + second) == 0  # the card filled in between: not below zero


@pytest.mark.parametrize(
    ("points", "to", "expected"),
    [
        (37, 10, RoundUp(30, 7)),
        (40, 10, RoundUp(40, 0)),
        (9, 10, RoundUp(0, 9)),
        (137, 25, RoundUp(125, 12)),
        (0, 10, RoundUp(0, 0)),
        (-5, 10, RoundUp(-5, 0)),
    ],
)
def test_round_up_keeps_a_multiple_and_donates_the_rest(
    points: int, to: int, expected: RoundUp
) -> None:
    assert round_up(points, to) == expected
    assert expected.kept + expected.donated == points


def test_round_up_needs_a_positive_step() -> None:
    with pytest.raises(ValueError, match="positive"):
        round_up(37, 0)
