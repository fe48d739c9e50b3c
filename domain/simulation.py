"""What a program would have given: recorded receipts replayed under two programs side by side.

Receipts arrive one member at a time, each member's in `occurred_at` order. For each program
a member's tier at a receipt comes from the tier credits that program would have given over
its rolling window (`domain.tiers.evaluate_tier`: downgrades due by then first, then the
receipt's points at that tier, then its credits and any upgrade). Receipts before `since`
only warm the window up; those in `[since, until)` are counted. A refund takes back its
share of a receipt's points and credits (`domain.earning.clawback`), and a receipt recorded
after its points would have expired earns none, as when it was recorded.

Members are independent of each other, so disjoint ranges of members can be replayed apart
(in other processes) and their `Tally`s added up before `compare`.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from domain.earning import Earner, Purchase, PurchaseLine, clawback
from domain.ledger import add_months
from domain.program import Program
from domain.promotions import promoted_earning
from domain.tiers import TierStatus, evaluate_tier

_ZERO = Decimal(0)


@dataclass(frozen=True)
class ReplayReceipt:
    """A recorded receipt as the replay needs it, with what it actually earned (net)."""

    member_id: int
    occurred_at: datetime
    recorded_at: datetime
    lines: tuple[PurchaseLine, ...]
    refunded: Decimal
    points_awarded: int  # after clawbacks

    @property
    def purchase(self) -> Purchase:
        """The receipt's lines as a purchase."""
        return Purchase(self.lines)


@dataclass(frozen=True)
class LedgerFacts:
    """The database's own figures the comparison starts from."""

    outstanding: int  # sum of every balance now
    issued: int  # points credited in the period, every kind
    redeemed: int  # points spent on rewards in the period


@dataclass(frozen=True)
class Outcome:
    """One program's figures over the period."""

    points_issued: int
    tier_credits: int
    members_by_tier: dict[str, int]
    outstanding: int
    point_value: Decimal

    @property
    def liability(self) -> Decimal | None:
        """Outstanding points in money; None when the program gives points no value."""
        return self.outstanding * self.point_value if self.point_value else None

    def reward_rate(self, revenue: Decimal) -> Decimal | None:
        """Money given back per money spent, in %; None without a point value or revenue."""
        if not self.point_value or revenue <= 0:
            return None
        return self.point_value * self.points_issued / revenue * 100

    def redemption_cost(self, rate: Decimal | None) -> Decimal | None:
        """The points issued redeemed at the observed `rate` (a share), in money."""
        if rate is None or not self.point_value:
            return None
        return rate * self.points_issued * self.point_value


MemberRange = tuple[int, int]  # member ids from the first up to, not including, the second


def member_ranges(span: MemberRange, parts: int) -> list[MemberRange]:
    """`span` cut into at most `parts` consecutive ranges of (nearly) equal width."""
    first, end = span
    width = end - first
    parts = max(1, min(parts, width))
    bounds = [first + width * part // parts for part in range(parts + 1)]
    return list(pairwise(bounds))


@dataclass(frozen=True)
class SideTally:
    """One program's running figures over some members."""

    points: int = 0
    credits: int = 0
    by_tier: Counter[str] = field(default_factory=Counter)

    def __add__(self, other: SideTally) -> SideTally:
        return SideTally(
            self.points + other.points, self.credits + other.credits, self.by_tier + other.by_tier
        )


@dataclass(frozen=True)
class Tally:
    """What replaying some members gave; tallies of disjoint members add up."""

    receipts: int = 0
    revenue: Decimal = Decimal(0)
    awarded: int = 0  # net points the ledger actually gave for the counted receipts
    members: int = 0
    moved_up: int = 0
    moved_down: int = 0
    current: SideTally = field(default_factory=SideTally)
    new: SideTally = field(default_factory=SideTally)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.receipts + other.receipts,
            self.revenue + other.revenue,
            self.awarded + other.awarded,
            self.members + other.members,
            self.moved_up + other.moved_up,
            self.moved_down + other.moved_down,
            self.current + other.current,
            self.new + other.new,
        )


@dataclass(frozen=True)
class Comparison:
    """The current program's and the new one's outcomes over the same receipts."""

    since: datetime
    until: datetime
    receipts: int
    revenue: Decimal
    redemption_rate: Decimal | None  # redeemed / issued in the period, a share
    current: Outcome
    new: Outcome
    moved_up: int
    moved_down: int


@dataclass
class _Track:
    """One member under one program: tier status and the credits still in the window."""

    status: TierStatus
    window: deque[tuple[datetime, int]] = field(default_factory=deque)
    in_window: int = 0  # the sum of `window`
    settled: int | None = None  # the credits `status` was worked out at, when not in grace

    def add(self, at: datetime, credits: int) -> None:
        """A receipt's credits, fed oldest first."""
        self.window.append((at, credits))
        self.in_window += credits

    def credits_at(self, at: datetime, window: timedelta) -> int:
        """Credits in the `window` ending at `at` (older ones are dropped for good)."""
        start = at - window
        entries = self.window
        while entries and entries[0][0] <= start:
            self.in_window -= entries.popleft()[1]
        return self.in_window


class _Side:
    """One program's running totals over the replay."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.earner = Earner(program.earning)
        self.window = timedelta(days=program.tiers.window_days)
        # a receipt recorded sooner than this after it happened cannot have expired: any
        # `add_months(at, months)` is at least 28 days a month after `at`
        self.surely_fresh = timedelta(days=28 * program.expiry.months)
        self.points = 0
        self.credits = 0
        self.by_tier: Counter[str] = Counter()

    def start(self) -> _Track:
        """A member before any receipt: the lowest tier."""
        return _Track(TierStatus(self.program.tiers.levels[0].name, None))

    def take(
        self, track: _Track, receipt: ReplayReceipt, purchase: Purchase, counted: bool
    ) -> None:
        """Earn `receipt` (its lines: `purchase`) at the member's tier then, and move the tier
        on."""
        program, at = self.program, receipt.occurred_at
        self._settle(track, at)
        tier = program.tiers.get(track.status.tier)
        earning = promoted_earning(program, purchase, tier, at, self.earner)
        points, credits = earning.points, earning.tier_credits
        if (
            receipt.recorded_at - at >= self.surely_fresh
            and add_months(at, program.expiry.months) <= receipt.recorded_at
        ):
            points = 0
        if receipt.refunded:
            total = purchase.total
            points -= clawback(points, total, _ZERO, receipt.refunded)
            credits -= clawback(credits, total, _ZERO, receipt.refunded)
        if credits:  # without new credits, settling again at `at` would change nothing
            track.add(at, credits)
            self._settle(track, at)
        if counted:
            self.points += points
            self.credits += credits

    def _settle(self, track: _Track, at: datetime) -> None:
        """Move the member's tier on to `at` (`evaluate_tier`). Skipped when not in grace and
        the credits are those the tier was last worked out at: the tier then equals the one
        those credits earn, and evaluating again would give it back unchanged."""
        credits = track.credits_at(at, self.window)
        if credits != track.settled or track.status.below_since is not None:
            track.status = evaluate_tier(self.program.tiers, track.status, credits, at)
            track.settled = credits if track.status.below_since is None else None

    def finish(self, track: _Track, until: datetime) -> int:
        """The member's tier at `until`, counted; its rank."""
        rules = self.program.tiers
        status = evaluate_tier(rules, track.status, track.credits_at(until, self.window), until)
        self.by_tier[status.tier] += 1
        return rules.rank(status.tier)

    def tally(self) -> SideTally:
        """This side's figures so far."""
        return SideTally(self.points, self.credits, Counter(self.by_tier))


class Simulation:
    """Feed receipts member by member (each member's in time order), then `compare`."""

    def __init__(self, current: Program, new: Program, since: datetime, until: datetime) -> None:
        self.current, self.new = _Side(current), _Side(new)
        self.since, self.until = since, until
        self.receipts, self.revenue, self.awarded = 0, Decimal(0), 0
        self.members, self.moved_up, self.moved_down = 0, 0, 0
        self._member: int | None = None
        self._tracks = (self.current.start(), self.new.start())

    @property
    def warm_up_start(self) -> datetime:
        """The earliest `occurred_at` whose credits can still count in the period."""
        days = max(self.current.program.tiers.window_days, self.new.program.tiers.window_days)
        return self.since - timedelta(days=days)

    def feed(self, receipts: Iterable[ReplayReceipt]) -> None:
        """Replay receipts; a member's receipts must come together, oldest first."""
        for receipt in receipts:
            if receipt.member_id != self._member:
                self._close_member()
                self._member = receipt.member_id
                self._tracks = (self.current.start(), self.new.start())
            counted = self.since <= receipt.occurred_at < self.until
            purchase = receipt.purchase
            self.current.take(self._tracks[0], receipt, purchase, counted)
            self.new.take(self._tracks[1], receipt, purchase, counted)
            if counted:
                self.receipts += 1
                self.revenue += purchase.total - receipt.refunded
                self.awarded += receipt.points_awarded

    def _close_member(self) -> None:
        """Count the member just replayed at their tier at `until` under each program."""
        if self._member is None:
            return
        before = self.current.finish(self._tracks[0], self.until)
        after = self.new.finish(self._tracks[1], self.until)
        self.members += 1
        self.moved_up += after > before
        self.moved_down += after < before

    def tally(self) -> Tally:
        """The figures of the members fed so far (the last one closed)."""
        self._close_member()
        self._member = None
        return Tally(
            self.receipts,
            self.revenue,
            self.awarded,
            self.members,
            self.moved_up,
            self.moved_down,
            self.current.tally(),
            self.new.tally(),
        )

    def compare(self, facts: LedgerFacts, all_members: int) -> Comparison:
        """Both programs' figures over the members fed here (`compare` below)."""
        return compare(
            self.current.program,
            self.new.program,
            self.since,
            self.until,
            self.tally(),
            facts,
            all_members,
        )


def compare(
    current: Program,
    new: Program,
    since: datetime,
    until: datetime,
    tally: Tally,
    facts: LedgerFacts,
    all_members: int,
) -> Comparison:
    """The figures of both programs; members without receipts stay in the lowest tier."""
    rate = Decimal(facts.redeemed) / facts.issued if facts.issued else None
    idle = all_members - tally.members
    return Comparison(
        since,
        until,
        tally.receipts,
        tally.revenue,
        rate,
        _outcome(current, tally.current, tally.awarded, facts, idle),
        _outcome(new, tally.new, tally.awarded, facts, idle),
        tally.moved_up,
        tally.moved_down,
    )


def _outcome(
    program: Program, side: SideTally, awarded: int, facts: LedgerFacts, idle: int
) -> Outcome:
    """One side's figures: outstanding as if its points had been given instead."""
    by_tier = {tier.name: side.by_tier[tier.name] for tier in program.tiers.levels}
    by_tier[program.tiers.levels[0].name] += idle
    return Outcome(
        side.points,
        side.credits,
        by_tier,
        facts.outstanding - awarded + side.points,
        program.metrics.point_value,
    )
