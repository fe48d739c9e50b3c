"""The challenge_ending nudge on plain facts: at least half done, not done nor completed,
ending within `before_days`; the window ending first; its place in the priority."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.challenges import Progress, Window
from domain.nudges import ChallengeEnding, MemberFacts, NudgePicker
from domain.program import NudgeRule, Program
from tests.conftest import NOW  # Monday 2 March 2026, 10:30 in New York

DAY = timedelta(days=1)
START = datetime(2026, 3, 1, 5, tzinfo=UTC)


def ending(
    challenge_id: str, ends: datetime, current: int, *, completed: bool = False
) -> ChallengeEnding:
    """A window of 4 purchases from 1 March (New York) to `ends`, `current` of them made."""
    progress = Progress(Decimal(current), Decimal(4))
    return ChallengeEnding(challenge_id, "purchases", Window(START, ends), progress, completed)


def facts(*endings: ChallengeEnding, **changes: object) -> MemberFacts:
    """A member who joined a week ago, saw their invite link, with challenges ending."""
    base = MemberFacts(7, "K7M2Q9XR", None, True, NOW - 7 * DAY, "Member", 50, invite_shown=True)
    return base._replace(challenges_ending=endings, **changes)


@pytest.fixture
def nudging(program: Program) -> Program:
    rules = (*program.nudges.rules, NudgeRule("challenge_ending", before_days=3))
    return replace(program, nudges=replace(program.nudges, rules=rules))


def test_at_least_half_done_and_ending_within_the_days(nudging):
    picker = NudgePicker(nudging, NOW)
    soon = NOW + 2 * DAY  # 12:30 UTC on 4 March: 07:30 in New York, so its last day is 4 March
    nudge = picker.pick(facts(ending("pair", soon, 2)))
    assert nudge is not None
    assert (nudge.kind, nudge.template) == ("challenge_ending", "nudge_challenge_ending")
    assert nudge.cause_key == "challenge_ending:pair:20260301T050000"
    assert nudge.context == {
        "challenge": "pair",
        "kind": "purchases",
        "current": "2",
        "target": "4",
        "last_day": "2026-03-04",
    }


@pytest.mark.parametrize(
    "late",
    [
        ending("pair", NOW + 2 * DAY, 1),  # under half
        ending("pair", NOW + 2 * DAY, 4),  # done
        ending("pair", NOW + 2 * DAY, 3, completed=True),  # rewarded (a refund took one back)
        ending("pair", NOW + 4 * DAY, 3),  # ends after the 3 days
        ending("pair", NOW, 3),  # over
    ],
)
def test_nothing_otherwise(nudging, late):
    assert NudgePicker(nudging, NOW).pick(facts(late)) is None


def test_the_window_ending_first_and_the_priority(nudging):
    picker = NudgePicker(nudging, NOW)
    two = (ending("later", NOW + 3 * DAY, 3), ending("first", NOW + DAY, 2))
    first = picker.pick(facts(*two))
    assert first is not None
    assert first.context["challenge"] == "first"
    affordable = picker.pick(facts(*two, balance=700))  # a reward in reach comes after
    assert affordable is not None
    assert affordable.kind == "challenge_ending"
    expiring = picker.pick(facts(*two, expiring_points=10, expiring_at=NOW + DAY))
    assert expiring is not None
    assert expiring.kind == "points_expiring"
    assert (
        NudgePicker(nudging, NOW)
        .pick(facts(*two, sent_causes=frozenset({first.cause_key})))
        .context["challenge"]
        == "later"
    )
