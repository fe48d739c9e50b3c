"""Every notification renders in every locale with the values the domain puts in the outbox."""

from __future__ import annotations

import pytest

from messages.render import locales, render

CONTEXTS = {
    "points_earned": {
        "receipt_id": "R-1",
        "member_code": "ABCDEFGH",
        "points_awarded": 252,
        "tier_credits": 127,
        "balance": 302,
        "tier": "Member",
        "breakdown": [
            {"reason": "spend", "detail": "shoes", "points": "200.00"},
            {"reason": "item", "detail": "BEANS-1KG", "points": "20.00"},
            {"reason": "visit", "detail": "", "points": "5.00"},
            {"reason": "tier_multiplier", "detail": "Insider", "points": "1.25"},
        ],
    },
    "tier_up": {"tier": "Prime"},
    "friend_joined": {"qualify_on": "first_purchase"},
    "friend_qualified": {"bonus": 100},
    "milestone_reached": {"count": 3, "bonus": 300},
}


@pytest.mark.parametrize("locale", locales())
@pytest.mark.parametrize(("template", "context"), CONTEXTS.items())
def test_notification_renders(locale, template, context):
    text = render(template, locale, **context)
    assert text
    assert "{{" not in text


def test_points_earned_shows_the_multiplier_only_when_it_counts():
    text = render("points_earned", "en", **CONTEXTS["points_earned"])
    assert "• × 1.25 (Insider)" in text
    assert "+252" in text
