"""Promotions: time-bound extra points on the one purchase path.

A promotion applies to a receipt when the receipt's `occurred_at`, read on the program's
clock, is inside its dates, weekdays and hours; the member's tier is among its tiers; and
the receipt has lines it covers (its categories or SKUs; every line when it names neither)
worth at least `min_spend`. Then:

    extra spend points = sum over the lines it boosts of line spend points x (multiplier - 1)
    bonus             = its bonus, once per receipt

Several promotions may match: on each line only the highest multiplier counts; bonuses add.
The earning step adds `AppliedPromotion.points` to the points before the tier multiplier
and rounding, like every other grant, and shows each as a line of the breakdown.

Hours may wrap midnight (["22:00", "02:00"]); the hours after midnight belong to the
weekday the window started on, so a Friday-night promotion still runs at 01:00 Saturday.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from domain.earning import Earner, Earning, PointGrant, Purchase, PurchaseLine, round_points
from domain.program import Program, Promotion, Rounding, Tier

_ZERO = Decimal(0)
_SCAN_DAYS = 9  # a weekly pattern shows all its windows within 8 days; one more for the night


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(moment: datetime, timezone: str) -> datetime:
    """An aware moment as the naive wall-clock time of `timezone`, as promotions read it."""
    return moment.astimezone(_zone(timezone)).replace(tzinfo=None)


@dataclass(frozen=True)
class AppliedPromotion:
    """A promotion that changed a receipt's points: one line of its breakdown.

    `lines` are the indexes of the receipt lines it multiplied (its multiplier was the
    highest there); `extra` is what that added to their spend points.
    """

    promotion: Promotion
    lines: tuple[int, ...]
    extra: Decimal
    bonus: int

    @property
    def points(self) -> Decimal:
        """Its points, before the tier multiplier and rounding."""
        return self.extra + self.bonus


def is_running(promotion: Promotion, local: datetime) -> bool:
    """Whether the promotion's dates, weekdays and hours include the wall-clock `local`."""
    if not promotion.starts <= local < promotion.ends:
        return False
    day = local.weekday()
    if promotion.hours is not None:
        start, end = promotion.hours
        now = local.time()
        if start < end:
            if not start <= now < end:
                return False
        elif now < end:
            day = (day - 1) % 7  # the night part of a window that began the day before
        elif now < start:
            return False
    return not promotion.weekdays or day in promotion.weekdays


def covers(promotion: Promotion, line: PurchaseLine) -> bool:
    """Whether a line is one the promotion boosts."""
    if not promotion.categories and not promotion.skus:
        return True
    return line.category in promotion.categories or line.sku in promotion.skus


def applies(
    promotion: Promotion, local: datetime, tier: str, lines: Sequence[PurchaseLine]
) -> tuple[int, ...]:
    """The indexes of the lines the promotion covers on this receipt; empty when it does not
    apply (not running at `local`, another tier, no such line, under its `min_spend`)."""
    if promotion.tiers and tier not in promotion.tiers:
        return ()
    if not is_running(promotion, local):
        return ()
    covered = tuple(i for i, line in enumerate(lines) if covers(promotion, line))
    spend = sum((lines[i].amount for i in covered), _ZERO)
    return covered if covered and spend >= promotion.min_spend else ()


def apply_promotions(
    promotions: Sequence[Promotion],
    lines: Sequence[PurchaseLine],
    line_points: Sequence[Decimal],
    *,
    occurred_at: datetime,
    timezone: str,
    tier: str,
) -> tuple[AppliedPromotion, ...]:
    """The promotions that change a receipt's points, in program order.

    `line_points[i]` is the spend points of `lines[i]` (amount x points per unit x category
    multiplier, before the tier multiplier); `occurred_at` is aware, `timezone` the
    program's. A promotion whose multiplier is beaten on every line and that has no bonus
    is left out.
    """
    if len(lines) != len(line_points):
        raise ValueError("one spend-points figure per line is needed")
    local = local_time(occurred_at, timezone)
    matched = [(promotion, applies(promotion, local, tier, lines)) for promotion in promotions]
    best: dict[int, tuple[Decimal, int]] = {}  # line -> (multiplier, index in `matched`)
    for index, (promotion, covered) in enumerate(matched):
        multiplier = promotion.multiplier
        if multiplier is None:
            continue
        for line in covered:
            if line not in best or multiplier > best[line][0]:
                best[line] = (multiplier, index)
    applied = []
    for index, (promotion, covered) in enumerate(matched):
        boosted = tuple(line for line in covered if line in best and best[line][1] == index)
        extra = sum((line_points[line] * (best[line][0] - 1) for line in boosted), _ZERO)
        bonus = promotion.bonus if covered else 0
        if boosted or bonus:
            applied.append(AppliedPromotion(promotion, boosted, extra, bonus))
    return tuple(applied)


PROMOTION = "promotion"  # the reason of a promotion's grant in a breakdown; its detail is the id


def promoted_earning(
    program: Program,
    purchase: Purchase,
    tier: Tier,
    occurred_at: datetime,
    earner: Earner | None = None,
) -> Earning:
    """What `purchase` earns a member in `tier` with the promotions running at `occurred_at`:
    one `promotion` grant per promotion applied, added before the tier multiplier and
    rounding like every other grant. `earner` is `program`'s, when the caller keeps one."""
    earner = earner or Earner(program.earning)
    earning = earner.earn(purchase, tier)
    if not program.promotions:
        return earning
    rules = program.earning
    lines = earner.earning_lines(purchase).lines
    line_points = [
        line.amount * rules.points_per_unit * rules.category_multiplier(line.category)
        for line in lines
    ]
    applied = apply_promotions(
        program.promotions,
        lines,
        line_points,
        occurred_at=occurred_at,
        timezone=program.info.timezone,
        tier=tier.name,
    )
    if not applied:
        return earning
    grants = (*earning.grants, *(PointGrant(PROMOTION, a.promotion.id, a.points) for a in applied))
    base = sum((grant.points for grant in grants), _ZERO)
    return replace(
        earning, points=round_points(base * tier.multiplier, rules.rounding), grants=grants
    )


def promotion_shares(earning: Earning, rounding: Rounding) -> tuple[int, list[tuple[str, int]]]:
    """`earning.points` split into the points the receipt earns without promotions and each
    promotion's share (id, points), so the ledger and metrics count promotion points as
    their own kind. Each share is what its grant adds to the rounded total, so the shares
    add up to `earning.points` exactly."""
    running = sum((g.points for g in earning.grants if g.reason != PROMOTION), _ZERO)
    plain = before = round_points(running * earning.tier_multiplier, rounding)
    shares = []
    for grant in earning.grants:
        if grant.reason == PROMOTION:
            running += grant.points
            after = round_points(running * earning.tier_multiplier, rounding)
            shares.append((grant.detail, after - before))
            before = after
    return plain, shares


def windows(
    promotion: Promotion, since: datetime, until: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The promotion's running stretches `[start, end)` that reach into `[since, until)`,
    in order, as naive program-local times; stretches that touch are one."""
    since, until = max(since, promotion.starts), min(until, promotion.ends)
    if since >= until:
        return
    if promotion.hours is None and len(promotion.weekdays) in (0, 7):
        yield promotion.starts, promotion.ends
        return
    week = timedelta(days=7)  # a stretch of whole days lasts a week at most
    pending: tuple[datetime, datetime] | None = None
    for start, end in _daily(promotion, (since - week).date(), (until + week).date()):
        start, end = max(start, promotion.starts), min(end, promotion.ends)
        if start >= end:
            continue
        if pending is not None and start <= pending[1]:
            pending = (pending[0], end)
            continue
        if pending is not None and pending[1] > since:
            yield pending
        if start >= until:
            return
        pending = (start, end)
    if pending is not None and pending[1] > since:
        yield pending


def _daily(promotion: Promotion, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    """Each day's window from `first` to `last`, on the promotion's weekdays, unclipped."""
    start, end = promotion.hours or (time(0), time(0))
    day = first
    while day <= last:
        if not promotion.weekdays or day.weekday() in promotion.weekdays:
            opens = datetime.combine(day, start)
            closes = datetime.combine(day + timedelta(days=1) if end <= start else day, end)
            yield opens, closes
        day += timedelta(days=1)


def next_window(promotion: Promotion, local: datetime) -> tuple[datetime, datetime] | None:
    """The stretch running at `local` or the next one to start, None when none is left; for
    `/offers` ("now" and "soon") and the start announcement."""
    since = max(local, promotion.starts)
    return next(windows(promotion, since, since + timedelta(days=_SCAN_DAYS)), None)


SOON = timedelta(days=7)  # /offers lists a promotion whose next stretch starts this soon


@dataclass(frozen=True)
class Offer:
    """A promotion for `/offers`: its stretch running now or the next one (naive program-local
    times, `ends` exclusive), and which of the two it is."""

    promotion: Promotion
    starts: datetime
    ends: datetime
    running: bool


def offers(promotions: Sequence[Promotion], tier: str, local: datetime) -> list[Offer]:
    """The promotions for a member in `tier` at the wall-clock `local`: those running (soonest
    to end first), then those starting within `SOON` (soonest first)."""
    found = []
    for promotion in promotions:
        if promotion.tiers and tier not in promotion.tiers:
            continue
        stretch = next_window(promotion, local)
        if stretch is not None and stretch[0] < local + SOON:
            found.append(Offer(promotion, *stretch, running=stretch[0] <= local))
    return sorted(found, key=lambda o: (not o.running, o.ends if o.running else o.starts))


def first_overlap(
    first: Promotion, second: Promotion, since: datetime = datetime.min
) -> datetime | None:
    """The first moment from `since` on when both promotions run for the same member (their
    tiers meet), None when there is none; `program check` notes it. Their lines are not
    compared: a SKU may belong to any category."""
    if first.tiers and second.tiers and not set(first.tiers) & set(second.tiers):
        return None
    since = max(first.starts, second.starts, since)
    until = min(first.ends, second.ends, since + timedelta(days=_SCAN_DAYS))
    others = list(windows(second, since, until))
    for start, end in windows(first, since, until):
        for other_start, other_end in others:
            if start < other_end and other_start < end:
                return max(start, other_start, since)
    return None
