"""Feature-owned routes: every command, button action, step and label has one owner, and the
templates describe exactly the commands the features declare."""

from __future__ import annotations

import pytest

from bot.conversation.core import MEMBERS, OPEN
from bot.conversation.desk import STAFF
from bot.conversation.handlers import donate, gift, rewards, stats
from bot.conversation.routes import Feature, RouteClash, check_unique, include
from bot.conversation.texts import MENU, key_values, labels
from messages.render import locales


async def nothing(*args: object) -> list:
    return []


def test_a_button_action_claimed_twice_stops_start_up_naming_both_features():
    thief = Feature("loot", "admin", buttons={rewards.REDEEM: nothing})
    with pytest.raises(
        RouteClash,
        match="button action 'rc' is claimed by both feature 'rewards' and feature 'loot'",
    ):
        check_unique((*MEMBERS.features, *STAFF.features, thief))
    with pytest.raises(RouteClash, match="'stats' and feature 'loot'"):
        include({"admin"}, stats.FEATURE, Feature("loot", "admin", commands={"stats": nothing}))


def test_a_step_or_label_claimed_twice_is_refused_too():
    with pytest.raises(RouteClash, match="step 'donate_amount'"):
        check_unique((donate.FEATURE, Feature("x", "member", steps={donate.STEP: nothing})))
    with pytest.raises(RouteClash, match="label 'menu_rewards'"):
        check_unique((rewards.FEATURE, Feature("x", "member", labels={"menu_rewards": nothing})))


@pytest.mark.parametrize(
    ("feature", "reason"),
    [
        (Feature("x", "member", commands={"Points": nothing}), "command 'Points'"),
        (Feature("x", "member", buttons={"a:b": nothing}), "button action 'a:b'"),
        (Feature("x", "member", buttons={"": nothing}), "button action ''"),
    ],
)
def test_a_route_that_could_never_be_reached_is_refused(feature, reason):
    with pytest.raises(RouteClash, match=reason):
        check_unique((feature,))


def test_a_feature_is_included_only_where_its_role_is_served():
    with pytest.raises(RouteClash, match="feature 'gift' is for 'member'"):
        include({"staff", "admin"}, gift.FEATURE)


def test_every_command_is_described_in_every_language_and_every_description_routed():
    customers = set(MEMBERS.commands)
    assert set(OPEN.commands) <= customers
    for locale in locales():
        assert set(key_values("commands", locale)) == customers, locale
        assert set(key_values("staff_commands", locale)) == set(STAFF.commands), locale


def test_every_reply_keyboard_button_is_routed_and_labelled():
    assert set(MENU) == set(MEMBERS.labels)
    for locale in locales():
        assert set(MENU) <= set(labels(locale)), locale
