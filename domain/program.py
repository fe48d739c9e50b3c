"""The merchant's loyalty program as validated, immutable objects.

The TOML format is documented in README.md and `domain/default_program.toml`;
`domain.program_file.parse_program` turns a file's text into a `Program`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from functools import cached_property
from typing import Literal

Rounding = Literal["floor", "round", "ceil"]
QualifyOn = Literal["first_purchase", "join"]
NudgeKind = Literal[
    "points_expiring",
    "reward_affordable",
    "near_next_tier",
    "inactive",
    "referral_reminder",
    "challenge_ending",
]
_ONE = Decimal(1)
SurveyTrigger = Literal["purchase", "refund", "redemption"]
QuestionKind = Literal["csat", "ces", "nps"]
StampPer = Literal["unit", "receipt"]
ChallengeKind = Literal["purchases", "spend", "categories", "streak", "referrals"]
LeaderboardMetric = Literal["points", "purchases"]
ActionKind = Literal["telegram_channel", "link", "phone", "birthday"]
# A title per locale as (locale, text) pairs, the program's first locale first; empty when
# the file gave one plain string. `domain.titles.localized` picks the member's.
Titles = tuple[tuple[str, str], ...]


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

    @cached_property
    def idle_categories(self) -> frozenset[str]:
        """The categories that earn nothing (multiplier 0), built once."""
        return frozenset(category for category, rate in self._multipliers.items() if rate <= 0)

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
    titles: Titles = ()  # how the tier reads per locale; `name` when none is given


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
    titles: Titles = ()


@dataclass(frozen=True)
class Cause:
    """A cause members donate points to."""

    id: str
    title: str
    goal: int
    points_per_impact: int
    impact_unit: str  # what one impact is called: "tree"
    impact_unit_plural: str  # and two or more (the locale's other forms): "trees"
    titles: Titles = ()


@dataclass(frozen=True)
class Milestone:
    """An extra referrer bonus (points, a reward voucher or both) at `count` qualified friends."""

    count: int
    bonus: int
    reward: str | None = None


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
    before_days: int | None = None  # challenge_ending: this many days before a challenge ends


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
class Promotion:
    """Time-bound earning: `[[promotions]]`. Times are wall-clock times in the program's
    time zone; `ends` is exclusive (an `ends` date in the file means the end of that day)."""

    id: str
    title: str
    starts: datetime  # naive, program-local
    ends: datetime  # naive, program-local, exclusive
    weekdays: tuple[int, ...] = ()  # 0 = Monday; empty: every day
    hours: tuple[time, time] | None = None  # may wrap midnight (the night counts to its start day)
    categories: tuple[str, ...] = ()  # with `skus`: the lines it boosts; neither: every line
    skus: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()  # empty: every tier
    min_spend: Decimal = Decimal(0)  # on the matching lines of one receipt
    multiplier: Decimal | None = None  # on the spend points of the matching lines
    bonus: int = 0  # points per matching receipt
    announce: bool = False
    titles: Titles = ()


@dataclass(frozen=True)
class StampCard:
    """A stamp card filled by purchases, issuing `reward` each time it fills: `[[stamps]]`."""

    id: str
    title: str
    count: int  # stamps on a full card
    reward: str
    per: StampPer = "unit"
    categories: tuple[str, ...] = ()  # with `skus`: what earns a stamp; neither: every line
    skus: tuple[str, ...] = ()
    titles: Titles = ()


@dataclass(frozen=True)
class Challenge:
    """A goal in a window, rewarded once per member and window: `[[challenges]]`.

    The window is fixed (`starts`/`ends`, naive program-local, `ends` exclusive) or rolling
    (`days` from when the member joins it). `target` is the receipts, money, distinct
    categories, consecutive weeks or qualified friends the kind counts.
    """

    id: str
    title: str
    kind: ChallengeKind
    target: Decimal
    categories: tuple[str, ...] = ()  # spend and categories: only these count; empty: all
    starts: datetime | None = None
    ends: datetime | None = None
    days: int | None = None
    opt_in: bool = False
    bonus: int = 0
    reward: str | None = None
    titles: Titles = ()


@dataclass(frozen=True)
class LeaderboardRules:
    """The monthly top list: the optional `[leaderboard]` table."""

    enabled: bool = True
    metric: LeaderboardMetric = "points"
    size: int = 10


@dataclass(frozen=True)
class Action:
    """Something a member does once to earn: `[[actions]]`; the keys after `kind` belong to
    one kind each (`channel`, `url` and `approval`, `reward` and `min_member_days`)."""

    id: str
    title: str
    kind: ActionKind
    points: int = 0
    channel: str | None = None  # telegram_channel: "@name"
    url: str | None = None  # link
    approval: bool = False  # link: paid only after staff approve the claim
    reward: str | None = None  # birthday: a voucher besides (or instead of) the points
    min_member_days: int = 0  # birthday: not for members who joined fewer days before
    titles: Titles = ()


@dataclass(frozen=True)
class DonationRules:
    """The optional `[donations]` table: round-up donations keep multiples of `round_up_to`."""

    round_up_to: int = 10


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
    promotions: tuple[Promotion, ...] = ()
    stamps: tuple[StampCard, ...] = ()
    challenges: tuple[Challenge, ...] = ()
    leaderboard: LeaderboardRules = LeaderboardRules()
    actions: tuple[Action, ...] = ()
    donations: DonationRules = DonationRules()

    def survey(self, survey_id: str) -> Survey | None:
        """The survey with this id, or None."""
        return next((s for s in self.surveys if s.id == survey_id), None)

    def reward(self, reward_id: str) -> Reward | None:
        """The reward with this id, or None."""
        return next((r for r in self.rewards if r.id == reward_id), None)

    def cause(self, cause_id: str) -> Cause | None:
        """The cause with this id, or None."""
        return next((c for c in self.causes if c.id == cause_id), None)

    def promotion(self, promotion_id: str) -> Promotion | None:
        """The promotion with this id, or None."""
        return next((p for p in self.promotions if p.id == promotion_id), None)

    def stamp_card(self, card_id: str) -> StampCard | None:
        """The stamp card with this id, or None."""
        return next((s for s in self.stamps if s.id == card_id), None)

    def challenge(self, challenge_id: str) -> Challenge | None:
        """The challenge with this id, or None."""
        return next((c for c in self.challenges if c.id == challenge_id), None)

    def action(self, action_id: str) -> Action | None:
        """The action with this id, or None."""
        return next((a for a in self.actions if a.id == action_id), None)
