"""The earning calculators, each alone and combined, with hand-computed numbers."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from domain.earning import (
    Earner,
    PerItemRewardCalculator,
    PerVisitRewardCalculator,
    ProductTypeRewardCalculator,
    Purchase,
    PurchaseLine,
    RewardCalculator,
    SpendRewardCalculator,
    clawback,
    round_points,
)
from domain.program import Program


def receipt(*lines: tuple[str, str, int, str]) -> Purchase:
    return Purchase(tuple(PurchaseLine(s, c, q, Decimal(p)) for s, c, q, p in lines))


EXAMPLE = receipt(
    ("SNEAKER", "shoes", 1, "100.00"),
    ("LATTE", "coffee", 2, "4.50"),
    ("BEANS-1KG", "coffee", 1, "18.00"),
)


def test_product_type_calculator_is_a_reward_calculator(program: Program):
    calculator = ProductTypeRewardCalculator(program.earning)
    assert isinstance(calculator, RewardCalculator)
    assert isinstance(calculator, SpendRewardCalculator)
    grants = calculator.grants(EXAMPLE)
    assert [(g.detail, g.points) for g in grants] == [
        ("shoes", Decimal(200)),
        ("coffee", Decimal(27)),
    ]


def test_plain_spend_calculator_ignores_categories():
    grants = SpendRewardCalculator(Decimal(2)).grants(EXAMPLE)
    assert sum(g.points for g in grants) == Decimal(254)


def test_gift_cards_earn_nothing_and_unlisted_categories_count_once(program: Program):
    grants = ProductTypeRewardCalculator(program.earning).grants(
        receipt(("GC", "gift-cards", 1, "50"), ("HAT", "hats", 2, "10.25"))
    )
    assert {g.detail: g.points for g in grants} == {"gift-cards": 0, "hats": Decimal("20.50")}


def test_per_item_and_per_visit(program: Program):
    items = PerItemRewardCalculator(program.earning).grants(
        receipt(("BEANS-1KG", "coffee", 3, "18"), ("LATTE", "coffee", 1, "4"))
    )
    assert [(g.detail, g.points) for g in items] == [("BEANS-1KG", Decimal(60))]
    assert PerVisitRewardCalculator(5).grants(EXAMPLE)[0].points == 5
    assert PerVisitRewardCalculator(0).grants(EXAMPLE) == []


def test_the_worked_example_for_each_tier(program: Program):
    earner = Earner(program.earning)
    tiers = program.tiers
    assert earner.earn(EXAMPLE, tiers.get("Member")).points == 252
    assert earner.earn(EXAMPLE, tiers.get("Insider")).points == 315  # 252 * 1.25
    assert earner.earn(EXAMPLE, tiers.get("Prime")).points == 378
    assert earner.earn(EXAMPLE, tiers.get("Member")).tier_credits == 127


def test_gift_cards_give_no_tier_credits(program: Program):
    earning = Earner(program.earning).earn(
        receipt(("GC", "gift-cards", 1, "50"), ("X", "coffee", 1, "9.99")),
        program.tiers.get("Member"),
    )
    assert earning.tier_credits == 9
    assert earning.points == 14  # floor(9.99 + 5)


def test_a_receipt_of_only_zero_multiplier_lines_earns_no_visit_points(program: Program):
    earning = Earner(program.earning).earn(
        receipt(("GC", "gift-cards", 2, "50")), program.tiers.get("Prime")
    )
    assert (earning.points, earning.tier_credits, earning.grants) == (0, 0, ())


def test_a_zero_multiplier_line_brings_no_item_bonus(program: Program):
    zero_beans = replace(
        program.earning,
        categories=(
            *program.earning.categories,
            replace(program.earning.categories[0], category="coffee", multiplier=Decimal(0)),
        ),
    )
    earner = Earner(zero_beans)
    member = program.tiers.get("Member")
    assert earner.earn(receipt(("BEANS-1KG", "coffee", 1, "18.00")), member).points == 0
    mixed = earner.earn(
        receipt(("BEANS-1KG", "coffee", 1, "18.00"), ("HAT", "hats", 1, "3")), member
    )
    assert mixed.points == 3 + 5  # the hat's spend and the visit; no beans, no bonus
    assert [g.reason for g in mixed.grants] == ["spend", "visit"]


def test_per_visit_needs_a_line():
    assert PerVisitRewardCalculator(5).grants(Purchase(())) == []


@pytest.mark.parametrize(
    ("rounding", "half", "low"),
    [
        ("floor", 17, 16),
        ("round", 18, 16),
        ("ceil", 18, 17),
    ],
)
def test_rounding_modes(program: Program, rounding, half, low):
    earner = Earner(replace(program.earning, rounding=rounding))
    insider = program.tiers.get("Insider")
    assert earner.earn(receipt(("X", "coffee", 1, "9.00")), insider).points == half  # 17.5
    assert earner.earn(receipt(("X", "coffee", 1, "8.10")), insider).points == low  # 16.375


def test_round_points_half_up():
    assert round_points(Decimal("2.5"), "round") == 3
    assert round_points(Decimal("2.49"), "round") == 2
    assert round_points(Decimal("2.01"), "ceil") == 3
    assert round_points(Decimal("2.99"), "floor") == 2


def test_clawback_is_proportional_and_cumulative():
    assert clawback(205, Decimal(100), Decimal(0), Decimal(40)) == 82
    assert clawback(205, Decimal(100), Decimal(40), Decimal(60)) == 123
    assert clawback(5, Decimal(2), Decimal(0), Decimal(1)) == 2
    assert clawback(5, Decimal(2), Decimal(1), Decimal(1)) == 3  # halves add up to 5, not 4
    assert clawback(5, Decimal(0), Decimal(0), Decimal(1)) == 0
