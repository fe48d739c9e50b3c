"""The merchant's loyalty program as validated, immutable objects.

The TOML format is documented in README.md and `domain/default_program.toml`;
`domain.program_file.parse_program` turns a file's text into a `Program`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from functools import cached_property
from typing import Literal

Rounding = Literal["floor", "round", "ceil"]
QualifyOn = Literal["first_purchase", "join"]
NudgeKind = Literal[
    "points_expiring", "reward_affordable", "near_next_tier", "inactive", "referral_reminder"
]
_ONE = Decimal(1)
SurveyTrigger = Literal["purchase", "refund", "redemption"]
QuestionKind = Literal["csat", "ces", "nps"]


@dataclass(frozen=True)
class ProgramInfo:
    """Who runs the program and its defaults."""

    name: str
    merchant: str
    currency: str
    timezone: str
    locales: tuple[str, ...]
    signup_bonus: int


@dataclass(frozen=True)
class CategoryRule:
    """A product-type multiplier on spend points; 0 means the category earns nothing."""

    category: str
    multiplier: Decimal


@dataclass(frozen=True)
class ItemBonus:
    """A flat points bonus per unit of one SKU."""

    sku: str
    points: int


@dataclass(frozen=True)
class EarningRules:
    """How a purchase turns into points and tier credits."""

    points_per_unit: Decimal
    per_visit: int
    rounding: Rounding
    tier_credits_per_unit: Decimal
    categories: tuple[CategoryRule, ...]
    items: tuple[ItemBonus, ...]

    @cached_property
    def _multipliers(self) -> dict[str, Decimal]:
        """Category multipliers by category, built once (the first rule of a category wins)."""
        return {rule.category: rule.multiplier for rule in reversed(self.categories)}

    @cached_property
    def _item_bonuses(self) -> dict[str, int]:
        """Item bonuses by SKU, built once (the first bonus of a SKU wins)."""
        return {item.sku: item.points for item in reversed(self.items)}

    def category_multiplier(self, category: str) -> Decimal:
        """The multiplier of a category; categories not listed count 1."""
        return self._multipliers.get(category, _ONE)

    def item_points(self, sku: str) -> int:
        """The flat bonus of one unit of a SKU, 0 when it has none."""
        return self._item_bonuses.get(sku, 0)


@dataclass(frozen=True)
class Tier:
    """A tier reached at `threshold` tier credits, multiplying earned points."""

    name: str
    threshold: int
    multiplier: Decimal


@dataclass(frozen=True)
class TierRules:
    """Tiers in ascending threshold order; the first has threshold 0."""

    window_days: int
    grace_days: int
    levels: tuple[Tier, ...]

    @cached_property
    def _ranks(self) -> dict[str, int]:
        """Each tier's position by name, built once: looked up for every replayed receipt."""
        return {tier.name: index for index, tier in reversed(list(enumerate(self.levels)))}

    def get(self, name: str) -> Tier:
        """The tier called `name`; KeyError when there is none."""
        return self.levels[self._ranks[name]]

    def rank(self, name: str) -> int:
        """Position of a tier, 0 for the lowest; KeyError when there is none."""
        return self._ranks[name]

    def for_credits(self, credits: int) -> Tier:
        """The highest tier whose threshold `credits` reaches."""
        reached = self.levels[0]
        for tier in self.levels:
            if credits >= tier.threshold:
                reached = tier
        return reached

    def next_above(self, name: str) -> Tier | None:
        """The tier after `name`, None at the top."""
        index = self.rank(name) + 1
        return self.levels[index] if index < len(self.levels) else None


@dataclass(frozen=True)
class ExpiryRules:
    """Each earned lot lives `months` months; members are warned `warn_days` before."""

    months: int
    warn_days: int


@dataclass(frozen=True)
class Reward:
    """A catalogue reward; `stock` None is unlimited, `per_member_limit` 0 is no limit."""

    id: str
    title: str
    cost: int
    valid_days: int
    stock: int | None = None
    per_member_limit: int = 0
    min_tier: str | None = None


@dataclass(frozen=True)
class Cause:
    """A cause members donate points to."""

    id: str
    title: str
    goal: int
    points_per_impact: int
    impact_unit: str  # what one impact is called: "tree"
    impact_unit_plural: str  # and two or more (the locale's other forms): "trees"


@dataclass(frozen=True)
class Milestone:
    """An extra referrer bonus when their qualified friends reach `count`."""

    count: int
    bonus: int


@dataclass(frozen=True)
class ReferralRules:
    """Bonuses for inviting friends."""

    invitee_bonus: int
    referrer_bonus: int
    qualify_on: QualifyOn
    daily_cap: int
    milestones: tuple[Milestone, ...]


@dataclass(frozen=True)
class NudgeRule:
    """One kind of personal reminder; the parameter it needs depends on the kind."""

    kind: NudgeKind
    within_percent: int | None = None
    after_days: int | None = None


@dataclass(frozen=True)
class NudgeRules:
    """When and how often reminders go out."""

    quiet_hours: tuple[time, time]
    min_days_between: int
    rules: tuple[NudgeRule, ...]


@dataclass(frozen=True)
class SurpriseRules:
    """Random surprise bonuses for active members, within a daily points budget."""

    every_days: int
    probability: float
    daily_budget: int
    bonus: int
    eligible_min_purchases: int


@dataclass(frozen=True)
class MetricsRules:
    """How the program is measured: the `[metrics]` table, optional, every key defaulted."""

    active_days: int = 90  # a member is active with a purchase in this many days before
    point_value: Decimal = Decimal(0)  # money one point costs the merchant; 0 = not valued
    survey_min_days: int = 14  # at most one satisfaction survey per member in this many days


@dataclass(frozen=True)
class Survey:
    """A satisfaction survey asked in chat after a trigger: `[[surveys]]`."""

    id: str
    trigger: SurveyTrigger
    sample: Decimal  # share of triggers that ask, 0..1
    delay_minutes: int
    questions: tuple[QuestionKind, ...]
    comment: bool = False  # ask for a free-text comment after a low score
    reward_points: int = 0  # paid once, with the last answer


@dataclass(frozen=True)
class Program:
    """A whole loyalty program."""

    info: ProgramInfo
    earning: EarningRules
    tiers: TierRules
    expiry: ExpiryRules
    rewards: tuple[Reward, ...]
    causes: tuple[Cause, ...]
    referrals: ReferralRules
    nudges: NudgeRules
    surprise: SurpriseRules
    metrics: MetricsRules = MetricsRules()
    surveys: tuple[Survey, ...] = ()

    def survey(self, survey_id: str) -> Survey | None:
        """The survey with this id, or None."""
        return next((s for s in self.surveys if s.id == survey_id), None)

    def reward(self, reward_id: str) -> Reward | None:
        """The reward with this id, or None."""
        return next((r for r in self.rewards if r.id == reward_id), None)

    def cause(self, cause_id: str) -> Cause | None:
        """The cause with this id, or None."""
        return next((c for c in self.causes if c.id == cause_id), None)
