"""Every scheduled message renders in every locale with the values the domain queues."""

from __future__ import annotations

import pytest

from messages.render import locales, render

CONTEXTS = {
    "nudge_points_expiring": {"points": 120, "date": "2026-03-09", "balance": 300},
    "nudge_reward_affordable": {"reward": "Free <coffee>", "cost": 150, "balance": 200},
    "nudge_near_next_tier": {"tier": "Insider", "credits_needed": 50},
    "nudge_inactive": {
        "days": 31,
        "category": "shoes",
        "reward": "Free coffee",
        "points_needed": 20,
    },
    "nudge_referral_reminder": {"bonus": 100, "friend_bonus": 50},
    "surprise_bonus": {"points": 100, "balance": 400},
    "points_expired": {"points": 50, "balance": 0},
    "tier_down": {"tier": "Member", "previous": "Insider"},
}


@pytest.mark.parametrize("locale", locales())
@pytest.mark.parametrize(("template", "context"), CONTEXTS.items())
def test_scheduled_message_renders(locale, template, context):
    text = render(template, locale, **context)
    assert text
    assert "{{" not in text


def test_dates_read_in_the_members_language():
    context = CONTEXTS["nudge_points_expiring"]
    assert "Mar 9, 2026" in render("nudge_points_expiring", "en", **context)
    assert "9 mar 2026" in render("nudge_points_expiring", "es", **context)


def test_inactive_offer_without_category_or_reward():
    text = render("nudge_inactive", "en", days=40, category="", reward="", points_needed=0)
    assert text == "👋 We miss you! It has been 40 days since your last visit."
    assert "&lt;coffee&gt;" in render(
        "nudge_reward_affordable", "en", **CONTEXTS["nudge_reward_affordable"]
    )
