"""The favourite category behind the come-back nudge: the most spent on, ties alphabetical."""

from __future__ import annotations

from decimal import Decimal

from domain.nudges import favourite_category


def test_the_category_spent_most_on_across_lines_wins() -> None:
    spending = [
        ("coffee", Decimal("3.50")),
        ("pastry", Decimal("6.00")),
        ("coffee", Decimal("3.50")),
    ]
    assert favourite_category(spending) == "coffee"


def test_a_tie_goes_to_the_first_alphabetically() -> None:
    assert favourite_category([("tea", Decimal(4)), ("beans", Decimal(4))]) == "beans"


def test_no_spending_has_no_favourite() -> None:
    assert favourite_category([]) is None
