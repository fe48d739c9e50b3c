"""The nudge rules on plain facts: each kind, priority, causes, pacing, quiet hours, opt-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from domain.nudges import MemberFacts, Nudge, NudgePicker, in_quiet_hours, with_category
from domain.program import Program
from tests.conftest import NOW  # 10:30 in New York, the program's time zone

DAY = timedelta(days=1)


def facts(**changes: object) -> MemberFacts:
    """A member who joined yesterday, has seen their invite link and is due nothing."""
    base = MemberFacts(
        member_id=7,
        code="K7M2Q9XR",
        timezone=None,
        reminders_opt_in=True,
        joined_at=NOW - DAY,
        tier="Member",
        balance=50,
        invite_shown=True,
    )
    return base._replace(**changes)


def pick_nudge(
    member: MemberFacts, program: Program, now: datetime, rewards: list | None = None
) -> Nudge | None:
    return NudgePicker(program, now, rewards).pick(member)


def kind(program: Program, member: MemberFacts, now: datetime = NOW) -> str | None:
    nudge = pick_nudge(member, program, now)
    return nudge.kind if nudge else None


def test_nothing_is_due_for_a_new_member(program):
    assert pick_nudge(facts(), program, NOW) is None


def test_points_expiring_names_the_amount_and_the_member_local_date(program):
    expires = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # still March 9 in New York
    nudge = pick_nudge(facts(expiring_points=120, expiring_at=expires), program, NOW)
    assert nudge is not None
    assert nudge.kind == "points_expiring"
    assert nudge.cause_key == "points_expiring:2026-03-10"
    assert nudge.context == {"points": 120, "date": "2026-03-09", "balance": 50}
    assert nudge.template == "nudge_points_expiring"


def test_reward_affordable_picks_the_priciest_reward_in_reach_and_in_the_tier(program):
    nudge = pick_nudge(facts(balance=700), program, NOW)  # tote needs Insider
    assert nudge is not None
    assert (nudge.kind, nudge.cause_key) == ("reward_affordable", "reward_affordable:coffee")
    insider = pick_nudge(facts(balance=700, tier="Insider"), program, NOW)
    assert insider is not None
    assert insider.cause_key == "reward_affordable:tote"


def test_reward_affordable_skips_redeemed_and_sold_out_rewards(program):
    assert kind(program, facts(balance=700, redeemed=frozenset({"coffee"}))) is None
    no_coffee = [r for r in program.rewards if r.id != "coffee"]
    assert pick_nudge(facts(balance=700), program, NOW, no_coffee) is None


def test_near_next_tier_within_the_percentage(program):
    assert kind(program, facts(tier_credits=449)) is None  # 51 short of 500: over 10%
    nudge = pick_nudge(facts(tier_credits=450), program, NOW)
    assert nudge is not None
    assert nudge.cause_key == "near_next_tier:Insider"
    assert nudge.context == {"tier": "Insider", "credits_needed": 50}
    assert kind(program, facts(tier="Prime", tier_credits=9999)) is None  # top tier


def test_inactive_with_a_moving_clock(program):
    bought = NOW - timedelta(days=10)
    member = facts(last_purchase_at=bought, joined_at=NOW - timedelta(days=100), balance=100)
    assert kind(program, member) is None
    assert kind(program, member, bought + timedelta(days=30) - timedelta(minutes=1)) is None
    later = bought + timedelta(days=30)
    nudge = pick_nudge(member, program, later)
    assert nudge is not None
    assert nudge.cause_key == f"inactive:{bought:%Y-%m-%d}"
    assert nudge.context == {"days": 30, "category": "", "reward": "coffee", "points_needed": 50}
    assert with_category(nudge, "shoes").context["category"] == "shoes"


def test_inactive_counts_from_joining_without_purchases(program):
    member = facts(joined_at=NOW - timedelta(days=31))
    assert kind(program, member) == "inactive"


def test_referral_reminder_after_the_days_and_only_without_a_shared_link(program):
    member = facts(invite_shown=False, joined_at=NOW - timedelta(days=13))
    assert kind(program, member) is None
    assert kind(program, member, NOW + DAY) == "referral_reminder"
    assert kind(program, member._replace(invite_shown=True), NOW + DAY) is None


def test_priority_expiring_before_affordable_before_tier_before_inactive(program):
    everything = facts(
        balance=200,
        expiring_points=50,
        expiring_at=NOW + 3 * DAY,
        tier_credits=480,
        joined_at=NOW - 40 * DAY,
        invite_shown=False,
    )
    assert kind(program, everything) == "points_expiring"
    sent = {"points_expiring:" + f"{NOW + 3 * DAY:%Y-%m-%d}"}
    assert kind(program, everything._replace(sent_causes=frozenset(sent))) == ("reward_affordable")
    sent.add("reward_affordable:coffee")
    assert kind(program, everything._replace(sent_causes=frozenset(sent))) == ("near_next_tier")
    sent.add("near_next_tier:Insider")
    assert kind(program, everything._replace(sent_causes=frozenset(sent))) == ("inactive")
    sent.add(f"inactive:{NOW - 40 * DAY:%Y-%m-%d}")
    assert kind(program, everything._replace(sent_causes=frozenset(sent))) == ("referral_reminder")
    sent.add("referral_reminder")
    assert kind(program, everything._replace(sent_causes=frozenset(sent))) is None


def test_never_twice_for_the_same_cause_but_again_for_a_new_one(program):
    member = facts(balance=200, sent_causes=frozenset({"reward_affordable:coffee"}))
    assert kind(program, member) is None
    assert kind(program, member._replace(balance=1000)) == "reward_affordable"


def test_only_configured_kinds(program):
    rules = replace(
        program.nudges,
        rules=tuple(r for r in program.nudges.rules if r.kind != "reward_affordable"),
    )
    assert kind(replace(program, nudges=rules), facts(balance=700)) is None


def test_frequency_cap_with_a_moving_clock(program):
    nudged = NOW - timedelta(days=1)
    member = facts(balance=200, last_nudge_at=nudged)
    assert kind(program, member) is None
    assert kind(program, member, nudged + timedelta(days=3) - timedelta(seconds=1)) is None
    assert kind(program, member, nudged + timedelta(days=3)) == "reward_affordable"


def test_reminders_off_means_no_nudge(program):
    assert kind(program, facts(balance=200, reminders_opt_in=False)) is None


def test_quiet_hours_in_the_members_own_time_zone(program):
    tokyo = facts(balance=200, timezone="Asia/Tokyo")
    los_angeles = facts(balance=200, timezone="America/Los_Angeles")
    utc_8pm = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # Tokyo 05:00, Los Angeles 12:00
    assert kind(program, tokyo, utc_8pm) is None
    assert kind(program, los_angeles, utc_8pm) == "reward_affordable"
    utc_5am = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # Tokyo 14:00, Los Angeles 21:00
    assert kind(program, tokyo, utc_5am) == "reward_affordable"
    assert kind(program, los_angeles, utc_5am) is None


def test_members_without_a_time_zone_follow_the_program(program):
    member = facts(balance=200)
    assert kind(program, member, datetime(2026, 3, 2, 13, 59, tzinfo=UTC)) is None  # 08:59
    assert kind(program, member, datetime(2026, 3, 2, 14, 0, tzinfo=UTC)) is not None  # 09:00
    assert kind(program, member, datetime(2026, 3, 3, 2, 0, tzinfo=UTC)) is None  # 21:00


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(8, 59), True),
        (time(9, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_wrap_midnight(local, quiet):
    moment = datetime(2026, 6, 1, local.hour, local.minute, tzinfo=UTC)
    assert in_quiet_hours(moment, "UTC", (time(21), time(9))) is quiet


def test_quiet_hours_within_one_day():
    window = (time(13), time(15))
    assert in_quiet_hours(datetime(2026, 6, 1, 14, tzinfo=UTC), "UTC", window)
    assert not in_quiet_hours(datetime(2026, 6, 1, 15, tzinfo=UTC), "UTC", window)
