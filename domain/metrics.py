"""Program metrics: the figures a merchant reads and the arithmetic that makes them.

Storage counts and sums in the database (`MetricFacts`); this module turns the counts into
rates and averages, each None when its denominator is 0. docs/metrics.md defines each one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from domain.ledger import EntryKind
from domain.program import Program
from domain.surveys import Satisfaction, Score

CENT = Decimal("0.01")
# Which ledger kinds each `points.issued` figure sums (credits only).
ISSUED_KINDS: dict[str, tuple[EntryKind, ...]] = {
    "purchase": (EntryKind.PURCHASE,),
    "signup": (EntryKind.SIGNUP,),
    "referral": (EntryKind.REFERRAL, EntryKind.REFERRAL_INVITEE),
    "milestone": (EntryKind.REFERRAL_MILESTONE,),
    "bonus": (EntryKind.BONUS,),
    "surprise": (EntryKind.SURPRISE,),
    "adjustment": (EntryKind.ADJUSTMENT,),
    "action": (EntryKind.ACTION,),
    "birthday": (EntryKind.BIRTHDAY,),
    "challenge": (EntryKind.CHALLENGE,),
    "promotion": (EntryKind.PROMOTION,),
}
# Which ledger kinds each points-out figure sums (debits only).
TAKEN_KINDS: dict[str, EntryKind] = {
    "redeemed": EntryKind.REDEMPTION,
    "donated": EntryKind.DONATION,
    "expired": EntryKind.EXPIRY,
    "clawed_back": EntryKind.REFUND,
    "removed": EntryKind.ADJUSTMENT,
    "forfeited": EntryKind.FORFEIT,
}


@dataclass(frozen=True)
class Window:
    """The instants the figures are counted between: [since, until) and the active windows."""

    since: datetime
    until: datetime
    active_since: datetime  # the active window ending at `since` starts here
    active_until: datetime  # the active window ending at `until` starts here


def local_midnight(day: date, zone: str) -> datetime:
    """The UTC instant at which `day` starts in time zone `zone`."""
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


def window(program: Program, since: date, until: date) -> Window:
    """The period's instants: the program-local midnights of the dates."""
    zone, days = program.info.timezone, program.metrics.active_days
    return Window(
        since=local_midnight(since, zone),
        until=local_midnight(until, zone),
        active_since=local_midnight(date.fromordinal(since.toordinal() - days), zone),
        active_until=local_midnight(date.fromordinal(until.toordinal() - days), zone),
    )


@dataclass(frozen=True)
class TierRevenue:
    """Lifetime net revenue up to `until` of the buying members of one tier."""

    customers: int
    revenue: Decimal


@dataclass(frozen=True)
class RewardFigures:
    """Vouchers of one reward in the period."""

    issued: int
    used: int
    expired: int
    from_stamps: int = 0  # of `issued`: given by a full stamp card


@dataclass(frozen=True)
class MetricFacts:
    """Counts and sums read from the database for one period; no rate is computed here."""

    members_total: int
    members_new: int
    members_left: int
    unreachable: int
    by_tier: dict[str, int]
    by_locale: dict[str, int]
    active_at_since: int  # S
    active_at_until: int  # E
    active_first_bought_in_period: int  # N
    purchases: int
    purchasing_members: int
    repeat_members: int  # with two or more purchases in the period
    revenue: Decimal  # net of refunds
    lifetime_by_tier: dict[str, TierRevenue]
    credited: dict[str, int]  # points credited in the period, by ledger kind
    debited: dict[str, int]  # points debited in the period, by ledger kind (positive)
    outstanding: int
    rewards: dict[str, RewardFigures]
    referrals_joined: int
    referrals_qualified: int
    donations: dict[str, tuple[int, int]]  # cause id: (points, donating members)


@dataclass(frozen=True)
class Members:
    """Who is in the program at the end of the period."""

    total: int
    new: int
    left: int
    active: int
    unreachable: int
    by_tier: dict[str, int]
    by_locale: dict[str, int]


@dataclass(frozen=True)
class Points:
    """Points moved in the period, and what is owed at its end."""

    issued: dict[str, int]
    issued_total: int
    redeemed: int
    donated: int
    expired: int
    clawed_back: int
    removed: int
    forfeited: int
    outstanding: int
    liability: Decimal | None
    redemption_rate: Decimal | None
    rewards: dict[str, RewardFigures] = field(default_factory=dict)


@dataclass(frozen=True)
class Referrals:
    """Friends who joined in the period, and how many of them qualified by its end."""

    joined: int
    qualified: int
    conversion_rate: Decimal | None


@dataclass(frozen=True)
class CauseFigures:
    """Donations to one cause in the period."""

    points: int
    impact: int | None  # whole impact units, None for a cause the program no longer lists
    members: int


@dataclass(frozen=True)
class Metrics:
    """Every figure of one period [since, until), dates in the program's time zone."""

    since: date
    until: date
    currency: str
    members: Members
    retention_rate: Decimal | None
    purchases: int
    repeat_purchase_rate: Decimal | None
    purchase_frequency: Decimal | None
    average_order_value: Decimal | None
    revenue: Decimal
    clv: Decimal | None
    clv_by_tier: dict[str, Decimal]
    points: Points
    referrals: Referrals
    donations: dict[str, CauseFigures]
    satisfaction: Satisfaction


def ratio(
    numerator: int | Decimal, denominator: int | Decimal, scale: int | Decimal = 1
) -> Decimal | None:
    """numerator / denominator x scale to the cent, half up; None when denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP)


def percent(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """numerator / denominator x 100, to the cent; None when denominator is 0."""
    return ratio(numerator, denominator, 100)


def metrics(
    program: Program, since: date, until: date, facts: MetricFacts, satisfaction: Satisfaction
) -> Metrics:
    """The figures of a period from its facts and its survey answers."""
    lifetime = facts.lifetime_by_tier
    customers = sum(tier.customers for tier in lifetime.values())
    lifetime_revenue = sum((tier.revenue for tier in lifetime.values()), Decimal(0))
    clv_by_tier = {
        name: value
        for name, tier in sorted(lifetime.items())
        if (value := ratio(tier.revenue, tier.customers)) is not None
    }
    return Metrics(
        since=since,
        until=until,
        currency=program.info.currency,
        members=Members(
            total=facts.members_total,
            new=facts.members_new,
            left=facts.members_left,
            active=facts.active_at_until,
            unreachable=facts.unreachable,
            by_tier=dict(sorted(facts.by_tier.items())),
            by_locale=dict(sorted(facts.by_locale.items())),
        ),
        retention_rate=percent(
            facts.active_at_until - facts.active_first_bought_in_period, facts.active_at_since
        ),
        purchases=facts.purchases,
        repeat_purchase_rate=percent(facts.repeat_members, facts.purchasing_members),
        purchase_frequency=ratio(facts.purchases, facts.purchasing_members),
        average_order_value=ratio(facts.revenue, facts.purchases),
        revenue=facts.revenue.quantize(CENT, ROUND_HALF_UP),
        clv=ratio(lifetime_revenue, customers),
        clv_by_tier=clv_by_tier,
        points=points_figures(program, facts),
        referrals=Referrals(
            facts.referrals_joined,
            facts.referrals_qualified,
            percent(facts.referrals_qualified, facts.referrals_joined),
        ),
        donations={
            cause_id: cause_figures(program, cause_id, points, members)
            for cause_id, (points, members) in sorted(facts.donations.items())
        },
        satisfaction=satisfaction,
    )


def points_figures(program: Program, facts: MetricFacts) -> Points:
    """The points figures: credits by kind, debits by kind, the outstanding and its cost."""
    issued = {
        name: sum(facts.credited.get(kind, 0) for kind in kinds)
        for name, kinds in ISSUED_KINDS.items()
    }
    taken = {name: facts.debited.get(kind, 0) for name, kind in TAKEN_KINDS.items()}
    value = program.metrics.point_value
    issued_total = sum(issued.values())
    return Points(
        issued=issued,
        issued_total=issued_total,
        redeemed=taken["redeemed"],
        donated=taken["donated"],
        expired=taken["expired"],
        clawed_back=taken["clawed_back"],
        removed=taken["removed"],
        forfeited=taken["forfeited"],
        outstanding=facts.outstanding,
        liability=(facts.outstanding * value).quantize(CENT, ROUND_HALF_UP) if value else None,
        redemption_rate=percent(taken["redeemed"], issued_total),
        rewards=dict(sorted(facts.rewards.items())),
    )


def cause_figures(program: Program, cause_id: str, points: int, members: int) -> CauseFigures:
    """One cause's donations; impact in whole units of the cause as the program defines it."""
    cause = program.cause(cause_id)
    impact = points // cause.points_per_impact if cause and cause.points_per_impact else None
    return CauseFigures(points, impact, members)


def money(amount: Decimal | None) -> str | None:
    """An amount for JSON: a decimal string, exact (never a float)."""
    return None if amount is None else str(amount)


def rate(value: Decimal | None) -> float | None:
    """A rate or average for JSON: a number with at most two decimals."""
    return None if value is None else float(value)


def as_json(figures: Metrics) -> dict[str, object]:
    """The figures as JSON values: money as decimal strings, rates as numbers, null for none."""
    return {
        "since": figures.since.isoformat(),
        "until": figures.until.isoformat(),
        "currency": figures.currency,
        "members": asdict(figures.members),
        "retention_rate": rate(figures.retention_rate),
        "purchases": figures.purchases,
        "repeat_purchase_rate": rate(figures.repeat_purchase_rate),
        "purchase_frequency": rate(figures.purchase_frequency),
        "average_order_value": money(figures.average_order_value),
        "revenue": money(figures.revenue),
        "clv": money(figures.clv),
        "clv_by_tier": {tier: money(value) for tier, value in figures.clv_by_tier.items()},
        "points": {
            **asdict(figures.points),
            "liability": money(figures.points.liability),
            "redemption_rate": rate(figures.points.redemption_rate),
        },
        "referrals": {
            **asdict(figures.referrals),
            "conversion_rate": rate(figures.referrals.conversion_rate),
        },
        "donations": {
            cause: asdict(cause_figures) for cause, cause_figures in figures.donations.items()
        },
        "satisfaction": satisfaction_json(figures.satisfaction),
    }


def satisfaction_json(figures: Satisfaction) -> dict[str, object]:
    """`csat`, `ces`, `nps` as {value, answers}, and the same per store."""

    def score(s: Score) -> dict[str, object]:
        return {"value": s.value, "answers": s.answers}

    return {
        "csat": score(figures.csat),
        "ces": score(figures.ces),
        "nps": score(figures.nps),
        "by_store": {
            store: satisfaction_json(of_store) for store, of_store in figures.by_store.items()
        },
    }
