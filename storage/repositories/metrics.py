"""The counts and sums behind the program metrics, aggregated in the database.

Every statement returns a handful of rows (one, or one per tier, locale, kind, reward or
cause), never one per member or receipt. Money is summed as the stored integer count of
1/10,000ths, so the sum is exact and identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.metrics import MetricFacts, RewardFigures, TierRevenue, Window
from storage.tables import (
    DonationRow,
    MemberRow,
    PurchaseRow,
    ReferralRow,
    TransactionRow,
    VoucherRow,
)
from storage.types import MONEY_SCALE

MEMBERS = MemberRow.__table__.c
PURCHASES = PurchaseRow.__table__.c
LEDGER = TransactionRow.__table__.c
VOUCHERS = VoucherRow.__table__.c
REFERRALS = ReferralRow.__table__.c
DONATIONS = DonationRow.__table__.c
COUNTED = PURCHASES.refunded < PURCHASES.total  # a receipt refunded in full is no purchase
NET = type_coerce(PURCHASES.total, BigInteger) - type_coerce(PURCHASES.refunded, BigInteger)
QUALIFIED = ("rewarded", "capped")


def money(scaled: Any) -> Decimal:
    """A summed integer count of 1/10,000ths as an amount (0 for an empty sum)."""
    return Decimal(int(scaled or 0)) * MONEY_SCALE


def member_at(at: Any) -> ColumnElement[bool]:
    """The member had joined before `at` and was not forgotten before it."""
    return and_(MEMBERS.joined_at < at,
                or_(MEMBERS.forgotten_at.is_(None), MEMBERS.forgotten_at >= at))


def between(column: Any, start: Any, end: Any) -> ColumnElement[bool]:
    """`column` in [start, end)."""
    return and_(column >= start, column < end)


def count_if(condition: ColumnElement[bool]) -> Any:
    """The number of rows meeting `condition`, 0 over no rows."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlMetrics:
    """Implements `domain.ports.MetricsRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def facts(self, window: Window) -> MetricFacts:
        """Everything the figures of the period need, in eleven aggregate statements."""
        since, until = window.since, window.until
        total, new, left, unreachable = (await self.conn.execute(select(
            count_if(member_at(until)), count_if(between(MEMBERS.joined_at, since, until)),
            count_if(between(MEMBERS.forgotten_at, since, until)),
            count_if(and_(member_at(until), MEMBERS.reachable.is_(False))),
        ))).one()
        purchases, buyers, repeat, revenue = await self._period_purchases(window)
        referrals_joined, referrals_qualified = (await self.conn.execute(select(
            func.count(), count_if(and_(REFERRALS.status.in_(QUALIFIED),
                                        REFERRALS.qualified_at < until)),
        ).where(between(REFERRALS.joined_at, since, until)))).one()
        credited, debited = await self._points(window)
        return MetricFacts(
            members_total=total, members_new=new, members_left=left, unreachable=unreachable,
            by_tier=await self._members_by(MEMBERS.tier, window),
            by_locale=await self._members_by(MEMBERS.locale, window),
            active_at_since=await self._active(window.active_since, since),
            active_at_until=await self._active(window.active_until, until),
            active_first_bought_in_period=await self._active(window.active_until, until, since),
            purchases=int(purchases), purchasing_members=int(buyers),
            repeat_members=int(repeat), revenue=money(revenue),
            lifetime_by_tier=await self._lifetime(window),
            credited=credited, debited=debited,
            outstanding=int((await self.conn.execute(
                select(func.coalesce(func.sum(LEDGER.points), 0))
                .where(LEDGER.created_at < until))).scalar_one()),
            rewards=await self._rewards(window),
            referrals_joined=referrals_joined, referrals_qualified=int(referrals_qualified),
            donations=await self._donations(window),
        )

    async def _members_by(self, column: Any, window: Window) -> dict[str, int]:
        """Members at `until` counted by the value of one of their columns."""
        rows = await self.conn.execute(
            select(column, func.count()).where(member_at(window.until)).group_by(column))
        return {key: count for key, count in rows.all()}

    async def _active(self, start: Any, end: Any, first_since: Any = None) -> int:
        """Members at `end` with a purchase in [start, end); with `first_since`, only those
        whose first purchase ever was in [first_since, end)."""
        statement = (
            select(func.count(func.distinct(PURCHASES.member_id)))
            .select_from(PurchaseRow.__table__.join(
                MemberRow.__table__, MEMBERS.id == PURCHASES.member_id))
            .where(COUNTED, between(PURCHASES.occurred_at, start, end), member_at(end))
        )
        if first_since is not None:
            firsts = (select(PURCHASES.member_id.label("member_id"),
                             func.min(PURCHASES.occurred_at).label("first"))
                      .where(COUNTED).group_by(PURCHASES.member_id).subquery())
            statement = statement.join(firsts, firsts.c.member_id == PURCHASES.member_id).where(
                between(firsts.c.first, first_since, end))
        return int((await self.conn.execute(statement)).scalar_one())

    async def _period_purchases(self, window: Window) -> tuple[Any, Any, Any, Any]:
        """Purchases in the period, members who made them, those with two or more, and the
        net revenue."""
        per_member = (
            select(func.count().label("made"), func.sum(NET).label("net"))
            .where(COUNTED, between(PURCHASES.occurred_at, window.since, window.until))
            .group_by(PURCHASES.member_id).subquery()
        )
        row = (await self.conn.execute(select(
            func.coalesce(func.sum(per_member.c.made), 0), func.count(),
            count_if(per_member.c.made >= 2), func.coalesce(func.sum(per_member.c.net), 0),
        ).select_from(per_member))).one()
        return row[0], row[1], row[2], row[3]

    async def _lifetime(self, window: Window) -> dict[str, TierRevenue]:
        """Per tier: the members with a purchase before `until` and their net revenue."""
        per_member = (
            select(PURCHASES.member_id.label("member_id"), func.sum(NET).label("net"))
            .where(COUNTED, PURCHASES.occurred_at < window.until)
            .group_by(PURCHASES.member_id).subquery()
        )
        rows = await self.conn.execute(
            select(MEMBERS.tier, func.count(), func.sum(per_member.c.net))
            .select_from(per_member.join(MemberRow.__table__,
                                         MEMBERS.id == per_member.c.member_id))
            .group_by(MEMBERS.tier))
        return {tier: TierRevenue(customers, money(net)) for tier, customers, net in rows.all()}

    async def _points(self, window: Window) -> tuple[dict[str, int], dict[str, int]]:
        """Points credited and debited in the period, each by ledger kind."""
        rows = await self.conn.execute(
            select(LEDGER.kind,
                   func.sum(case((LEDGER.points > 0, LEDGER.points), else_=0)),
                   func.sum(case((LEDGER.points < 0, -LEDGER.points), else_=0)))
            .where(between(LEDGER.created_at, window.since, window.until))
            .group_by(LEDGER.kind))
        credited, debited = {}, {}
        for kind, added, taken in rows.all():
            credited[kind], debited[kind] = int(added), int(taken)
        return credited, debited

    async def _rewards(self, window: Window) -> dict[str, RewardFigures]:
        """Per reward: vouchers issued, used, and expired unused, in the period."""
        since, until = window.since, window.until
        rows = await self.conn.execute(
            select(VOUCHERS.reward_id, count_if(between(VOUCHERS.issued_at, since, until)),
                   count_if(between(VOUCHERS.used_at, since, until)),
                   count_if(and_(between(VOUCHERS.expires_at, since, until),
                                 VOUCHERS.used_at.is_(None))))
            .where(or_(between(VOUCHERS.issued_at, since, until),
                       between(VOUCHERS.used_at, since, until),
                       between(VOUCHERS.expires_at, since, until)))
            .group_by(VOUCHERS.reward_id))
        return {reward: RewardFigures(int(issued), int(used), int(expired))
                for reward, issued, used, expired in rows.all()}

    async def _donations(self, window: Window) -> dict[str, tuple[int, int]]:
        """Per cause: points donated in the period and how many members gave them."""
        rows = await self.conn.execute(
            select(DONATIONS.cause_id, func.sum(DONATIONS.points),
                   func.count(func.distinct(DONATIONS.member_id)))
            .where(between(DONATIONS.created_at, window.since, window.until))
            .group_by(DONATIONS.cause_id))
        return {cause: (int(points), members) for cause, points, members in rows.all()}
