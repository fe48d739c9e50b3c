"""The points a cashier's confirmation shows before a sale is recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal

from domain.models import Member
from domain.preview import preview_points
from domain.program import Program, Promotion
from tests.conftest import NOW


def member_at(program: Program, tier: str) -> Member:
    """A member whose tier is `tier` (nothing else matters to the preview)."""
    return Member(
        id=1,
        code="K1",
        telegram_id=1,
        first_name=None,
        phone=None,
        locale="en",
        timezone=None,
        marketing_opt_in=True,
        reachable=True,
        joined_at=NOW,
        referrer_id=None,
        tier=tier,
        tier_below_since=None,
        first_purchase_at=None,
        forgotten_at=None,
    )


def test_spend_category_and_visit_count(program):
    assert preview_points(program, None, "coffee", Decimal("40")) == 40 + 5
    assert preview_points(program, None, "shoes", Decimal("40")) == 2 * 40 + 5
    assert preview_points(program, None, "gift-cards", Decimal("40")) == 0  # no visit either


def test_the_member_tier_multiplies_and_a_new_phone_earns_at_the_lowest(program):
    assert preview_points(program, member_at(program, "Prime"), "coffee", Decimal("40")) == 67
    assert preview_points(
        program, member_at(program, "Member"), "coffee", Decimal("40")
    ) == preview_points(program, None, "coffee", Decimal("40"))


def test_the_promotions_running_at_the_sale_count(program):
    happy = Promotion(  # Mondays 10:00-11:00 in New York: NOW (15:30 UTC) is 10:30 EST
        id="happy",
        title="Happy",
        starts=datetime(2026, 3, 1),
        ends=datetime(2026, 4, 1),
        weekdays=(0,),
        hours=(time(10), time(11)),
        categories=("coffee",),
        multiplier=Decimal(2),
        bonus=3,
    )
    promoted = replace(program, promotions=(happy,))
    # 40 spend + 40 extra + 3 bonus + 5 visit
    assert preview_points(promoted, None, "coffee", Decimal("40"), NOW) == 88
    assert preview_points(promoted, None, "shoes", Decimal("40"), NOW) == 2 * 40 + 5
    later = NOW + timedelta(hours=1)  # 11:30 EST: over
    assert preview_points(promoted, None, "coffee", Decimal("40"), later) == 45
