"""The answer of `GET /api/v1/metrics`, for the OpenAPI document: the JSON of
`domain.metrics.as_json` (the same as `loyalty-bot report --format json`), field by field.

Money is a decimal string (exact), rates and averages are numbers with at most two
decimals, and a figure whose denominator is 0 is null. docs/metrics.md defines each one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Exact(BaseModel):
    """A part of the answer: every field it has is documented (a test checks the JSON)."""

    model_config = ConfigDict(extra="forbid")


class MembersOut(Exact):
    """Who is in the program at the end of the period."""

    total: int
    new: int = Field(description="joined in the period")
    left: int = Field(description="left (forgotten) in the period")
    active: int = Field(description="with a purchase in the active_days before `until`")
    unreachable: int = Field(description="blocked the bot or left")
    by_tier: dict[str, int]
    by_locale: dict[str, int]


class RewardOut(Exact):
    """Vouchers of one reward in the period."""

    issued: int
    used: int
    expired: int
    from_stamps: int = Field(description="of issued: given by a full stamp card")


class PointsOut(Exact):
    """Points moved in the period, and what is owed at its end."""

    issued: dict[str, int] = Field(
        description="credits by kind: purchase, signup, referral, "
        "milestone, bonus, surprise, adjustment, action, birthday, challenge (bonuses of "
        "challenges completed), promotion (the extra points of promotions on receipts)"
    )
    issued_total: int
    redeemed: int
    donated: int
    expired: int
    clawed_back: int
    removed: int
    forfeited: int
    outstanding: int = Field(description="at `until`")
    liability: str | None = Field(description="outstanding x point_value; null without one")
    redemption_rate: float | None
    rewards: dict[str, RewardOut] = Field(description="per reward id")


class ReferralsOut(Exact):
    """Friends who joined in the period, and how many qualified by its end."""

    joined: int
    qualified: int
    conversion_rate: float | None


class CauseOut(Exact):
    """Donations to one cause in the period."""

    points: int
    impact: int | None = Field(
        description="whole impact units; null for a cause no longer in the program"
    )
    members: int


class ScoreOut(Exact):
    """One satisfaction figure and the answers it stands on."""

    value: float | None = Field(description="one decimal; null without answers")
    answers: int


class SatisfactionOut(Exact):
    """csat and ces: answers of 4-5 / all x 100; nps: % of 9-10 minus % of 0-6."""

    csat: ScoreOut
    ces: ScoreOut
    nps: ScoreOut
    by_store: dict[str, SatisfactionOut] = Field(description="the same per store")


class MetricsOut(Exact):
    """Every figure of the period [since, until), dates in the program's time zone."""

    since: str = Field(description="YYYY-MM-DD, first day")
    until: str = Field(description="YYYY-MM-DD, the day after the last")
    currency: str
    members: MembersOut
    retention_rate: float | None
    purchases: int
    repeat_purchase_rate: float | None
    purchase_frequency: float | None
    average_order_value: str | None
    revenue: str = Field(description="net of refunds")
    clv: str | None
    clv_by_tier: dict[str, str]
    points: PointsOut
    referrals: ReferralsOut
    donations: dict[str, CauseOut] = Field(description="per cause id")
    satisfaction: SatisfactionOut = Field(description="from the survey answers of the period")
