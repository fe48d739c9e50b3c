"""Personal nudges: which one reminder, if any, matters most to a member right now.

Priority, highest first (a member gets at most one nudge per run):

1. `points_expiring`: points are about to be lost, and the date is fixed;
2. `challenge_ending`: a challenge at least half done ends within `before_days` days (the
   one ending first);
3. `reward_affordable`: they can have something now (the priciest such reward first);
4. `near_next_tier`: a little spending earns lasting benefits;
5. `inactive`: an offer to come back, from their favourite category and a reward in reach;
6. `referral_reminder`: a one-time hint to share their invite link.

A kind whose cause was already nudged is passed over for the next one. Nothing is picked
when the member turned reminders off, is inside quiet hours in their own time zone (the
program's when they set none), or was nudged less than `min_days_between` days ago.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from domain.challenges import Progress, Window
from domain.program import NudgeKind, NudgeRule, Program, Reward


class ChallengeEnding(NamedTuple):
    """A challenge window of the member's that ends soon, with their progress in it."""

    challenge_id: str
    kind: str
    window: Window
    progress: Progress
    completed: bool


PRIORITY: tuple[NudgeKind, ...] = (
    "points_expiring",
    "challenge_ending",
    "reward_affordable",
    "near_next_tier",
    "inactive",
    "referral_reminder",
)


class MemberFacts(NamedTuple):
    """What the nudge rules look at for one member, gathered by storage in bulk (a tuple:
    a million of them are built per run)."""

    member_id: int
    code: str | None
    timezone: str | None
    reminders_opt_in: bool
    joined_at: datetime
    tier: str
    balance: int
    tier_credits: int = 0
    expiring_points: int = 0
    expiring_at: datetime | None = None
    last_purchase_at: datetime | None = None
    redeemed: frozenset[str] = frozenset()
    invite_shown: bool = False
    last_nudge_at: datetime | None = None
    sent_causes: frozenset[str] = frozenset()
    challenges_ending: tuple[ChallengeEnding, ...] = ()  # filled in when the rule is on


@dataclass(frozen=True, slots=True)
class Nudge:
    """One nudge for one member: its kind, the cause it must never repeat, template values."""

    member_id: int
    code: str | None
    kind: NudgeKind
    cause_key: str
    context: dict[str, object] = field(hash=False)

    @property
    def template(self) -> str:
        """The chat template that words it."""
        return f"nudge_{self.kind}"


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def in_quiet_hours(now: datetime, timezone: str, quiet: tuple[time, time]) -> bool:
    """Whether `now` falls inside the quiet hours, read on the clock of `timezone`."""
    start, end = quiet
    if start == end:
        return False
    local = now.astimezone(_zone(timezone)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window wraps midnight


def eligible_rewards(program: Program, tier: str, rewards: Sequence[Reward]) -> list[Reward]:
    """The rewards a member of `tier` may redeem, cheapest first."""
    rank = program.tiers.rank(tier)
    allowed = [r for r in rewards if not r.min_tier or rank >= program.tiers.rank(r.min_tier)]
    return sorted(allowed, key=lambda r: r.cost)


class NudgePicker:
    """Picks each member's nudge at one moment; what all members share is worked out once."""

    def __init__(
        self, program: Program, now: datetime, rewards: Sequence[Reward] | None = None
    ) -> None:
        """`rewards` are the ones still in stock (all of the program's when not given)."""
        self.program, self.now = program, now
        self.rewards = program.rewards if rewards is None else tuple(rewards)
        configured = {rule.kind: rule for rule in program.nudges.rules}
        self.rules = [configured[kind] for kind in PRIORITY if kind in configured]
        self.pause = timedelta(days=program.nudges.min_days_between)
        self._quiet: dict[str, bool] = {}
        self._rewards: dict[str, list[Reward]] = {}

    def pick(self, facts: MemberFacts) -> Nudge | None:
        """The nudge that matters most to this member now, or None."""
        if not self.may_nudge(facts):
            return None
        rewards = self._rewards.get(facts.tier)
        if rewards is None:
            rewards = self._rewards[facts.tier] = eligible_rewards(
                self.program, facts.tier, self.rewards
            )
        for rule in self.rules:
            for cause_key, context in _candidates(rule, facts, self.program, self.now, rewards):
                if cause_key not in facts.sent_causes:
                    return Nudge(facts.member_id, facts.code, rule.kind, cause_key, context)
        return None

    def may_nudge(self, facts: MemberFacts) -> bool:
        """Reminders on, not nudged too recently, outside the member's quiet hours."""
        if not facts.reminders_opt_in:
            return False
        if facts.last_nudge_at is not None and self.now - facts.last_nudge_at < self.pause:
            return False
        timezone = facts.timezone or self.program.info.timezone
        quiet = self._quiet.get(timezone)
        if quiet is None:
            quiet = self._quiet[timezone] = in_quiet_hours(
                self.now, timezone, self.program.nudges.quiet_hours
            )
        return not quiet


Candidate = tuple[str, dict[str, object]]


def _candidates(
    rule: NudgeRule, facts: MemberFacts, program: Program, now: datetime, rewards: list[Reward]
) -> list[Candidate]:
    """Every (cause key, template values) of one rule that applies, preferred first."""
    kind = rule.kind
    if kind == "points_expiring":
        return _expiring(facts, program)
    if kind == "reward_affordable":
        return _affordable(facts, rewards)
    if kind == "near_next_tier":
        return _near_tier(facts, program, rule.within_percent or 0)
    if kind == "inactive":
        return _inactive(facts, now, rule.after_days or 0, rewards)
    if kind == "challenge_ending":
        return _challenge_ending(facts, program, now, rule.before_days or 0)
    return _referral(facts, program, now, rule.after_days or 0)


def _expiring(facts: MemberFacts, program: Program) -> list[Candidate]:
    if not facts.expiring_points or facts.expiring_at is None:
        return []
    local = facts.expiring_at.astimezone(_zone(facts.timezone or program.info.timezone))
    return [
        (
            f"points_expiring:{facts.expiring_at:%Y-%m-%d}",
            {
                "points": facts.expiring_points,
                "date": local.date().isoformat(),
                "balance": facts.balance,
            },
        )
    ]


def _challenge_ending(
    facts: MemberFacts, program: Program, now: datetime, before_days: int
) -> list[Candidate]:
    zone = facts.timezone or program.info.timezone
    return [
        (
            f"challenge_ending:{e.challenge_id}:{e.window.starts:%Y%m%dT%H%M%S}",
            {
                "challenge": e.challenge_id,
                "kind": e.kind,
                "current": str(e.progress.current),
                "target": str(e.progress.target),
                "last_day": e.window.last_day(zone),
            },
        )
        for e in sorted(facts.challenges_ending, key=lambda e: e.window.ends)
        if not e.completed
        and e.progress.halfway
        and not e.progress.done
        and e.window.ends_within(now, before_days)
    ]


def _affordable(facts: MemberFacts, rewards: list[Reward]) -> list[Candidate]:
    return [
        (f"reward_affordable:{r.id}", {"reward": r.id, "cost": r.cost, "balance": facts.balance})
        for r in reversed(rewards)
        if r.cost <= facts.balance and r.id not in facts.redeemed
    ]


def _near_tier(facts: MemberFacts, program: Program, within_percent: int) -> list[Candidate]:
    nxt = program.tiers.next_above(facts.tier)
    if nxt is None:
        return []
    needed = nxt.threshold - facts.tier_credits
    if not 0 < needed * 100 <= nxt.threshold * within_percent:
        return []
    return [(f"near_next_tier:{nxt.name}", {"tier": nxt.name, "credits_needed": needed})]


def _inactive(
    facts: MemberFacts, now: datetime, after_days: int, rewards: list[Reward]
) -> list[Candidate]:
    since = facts.last_purchase_at or facts.joined_at
    days = (now - since).days
    if days < after_days:
        return []
    reward = reward_in_reach(facts.balance, rewards)
    context: dict[str, object] = {
        "days": days,
        "category": "",
        "reward": reward.id if reward else "",
        "points_needed": max(reward.cost - facts.balance, 0) if reward else 0,
    }
    return [(f"inactive:{since:%Y-%m-%d}", context)]


def _referral(
    facts: MemberFacts, program: Program, now: datetime, after_days: int
) -> list[Candidate]:
    if facts.invite_shown or now - facts.joined_at < timedelta(days=after_days):
        return []
    referrals = program.referrals
    return [
        (
            "referral_reminder",
            {"bonus": referrals.referrer_bonus, "friend_bonus": referrals.invitee_bonus},
        )
    ]


def reward_in_reach(balance: int, rewards: list[Reward]) -> Reward | None:
    """The priciest reward `balance` affords, else the cheapest one (rewards cheapest first)."""
    affordable = [r for r in rewards if r.cost <= balance]
    if affordable:
        return affordable[-1]
    return rewards[0] if rewards else None


def favourite_category(spending: Iterable[tuple[str, Decimal]]) -> str | None:
    """The category spent most on, from (category, amount) pairs (ties: alphabetical first);
    None without any spending. It fills in the `inactive` nudge's offer."""
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for category, amount in spending:
        totals[category] += amount
    return min(totals, key=lambda category: (-totals[category], category), default=None)


def with_category(nudge: Nudge, category: str | None) -> Nudge:
    """An `inactive` nudge with the member's favourite category filled in."""
    if nudge.kind != "inactive" or not category:
        return nudge
    return Nudge(
        nudge.member_id,
        nudge.code,
        nudge.kind,
        nudge.cause_key,
        {**nudge.context, "category": category},
    )
