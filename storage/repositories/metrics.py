"""The counts and sums behind the program metrics, aggregated in the database.

Every statement returns a handful of rows (one, or one per tier, locale, kind, reward or
cause), never one per member or receipt. Money is summed as the stored integer count of
1/10,000ths, so the sum is exact and identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    type_coerce,
)

from domain.metrics import MetricFacts, RewardFigures, TierRevenue, Window
from domain.stamps import VOUCHER_REQUEST
from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import (
    DonationRow,
    KeptFiguresRow,
    MemberRow,
    PurchaseRow,
    ReferralRow,
    TransactionRow,
    VoucherRow,
)
from storage.types import MONEY_SCALE

MEMBERS = MemberRow.c
PURCHASES = PurchaseRow.c
LEDGER = TransactionRow.c
VOUCHERS = VoucherRow.c
REFERRALS = ReferralRow.c
DONATIONS = DonationRow.c
COUNTED = PURCHASES.refunded < PURCHASES.total  # a receipt refunded in full is no purchase
NET = type_coerce(PURCHASES.total, BigInteger) - type_coerce(PURCHASES.refunded, BigInteger)
QUALIFIED = ("rewarded", "capped")
# Grouping by `member_id + 0` keeps SQLite from walking the (member_id, occurred_at) index,
# which reads every receipt out of order: a scan and a sort is four times faster there.
BUYER = PURCHASES.member_id + 0


def money(scaled: Any) -> Decimal:
    """A summed integer count of 1/10,000ths as an amount (0 for an empty sum)."""
    return Decimal(int(scaled or 0)) * MONEY_SCALE


def member_at(at: Any) -> ColumnElement[bool]:
    """The member had joined before `at` and was not forgotten before it."""
    return and_(
        MEMBERS.joined_at < at, or_(MEMBERS.forgotten_at.is_(None), MEMBERS.forgotten_at >= at)
    )


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
        """Everything the figures of the period need, in ten aggregate statements."""
        since, until = window.since, window.until
        total, new, left, unreachable = (
            await self.conn.execute(
                select(
                    count_if(member_at(until)),
                    count_if(between(MEMBERS.joined_at, since, until)),
                    count_if(between(MEMBERS.forgotten_at, since, until)),
                    count_if(and_(member_at(until), MEMBERS.reachable.is_(False))),
                )
            )
        ).one()
        purchases, buyers, repeat, revenue = await self._period_purchases(window)
        referrals_joined, referrals_qualified = (
            await self.conn.execute(
                select(
                    func.count(),
                    count_if(and_(REFERRALS.status.in_(QUALIFIED), REFERRALS.qualified_at < until)),
                ).where(between(REFERRALS.joined_at, since, until))
            )
        ).one()
        credited, debited = await self._points(window)
        return MetricFacts(
            members_total=total,
            members_new=new,
            members_left=left,
            unreachable=unreachable,
            by_tier=await self._members_by(MEMBERS.tier, window),
            by_locale=await self._members_by(MEMBERS.locale, window),
            **await self._activity(window),
            purchases=int(purchases),
            purchasing_members=int(buyers),
            repeat_members=int(repeat),
            revenue=money(revenue),
            lifetime_by_tier=await self._lifetime(window),
            credited=credited,
            debited=debited,
            outstanding=int(
                (
                    await self.conn.execute(
                        select(func.coalesce(func.sum(LEDGER.points), 0)).where(
                            LEDGER.created_at < until
                        )
                    )
                ).scalar_one()
            ),
            rewards=await self._rewards(window),
            referrals_joined=referrals_joined,
            referrals_qualified=int(referrals_qualified),
            donations=await self._donations(window),
        )

    async def kept(self, key: str) -> tuple[datetime, str] | None:
        """Figures kept under `key` and when they were computed, if any."""
        row = (
            await self.conn.execute(
                select(KeptFiguresRow.c.computed_at, KeptFiguresRow.c.body).where(
                    KeptFiguresRow.c.key == key
                )
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    async def keep(self, key: str, at: datetime, body: str) -> None:
        """Replace what is kept under `key` when it is older than `at`; otherwise (a newer
        computation finished first) keep it."""
        await self.conn.execute(
            delete(KeptFiguresRow).where(
                KeptFiguresRow.c.key == key, KeptFiguresRow.c.computed_at < at
            )
        )
        await self.conn.execute(
            insert_ignoring_conflict(
                self.conn.dialect.name, KeptFiguresRow, key=key, computed_at=at, body=body
            )
        )

    async def forget_kept(self, before: datetime) -> int:
        """Drop figures computed before `before`; how many."""
        result = await self.conn.execute(
            delete(KeptFiguresRow).where(KeptFiguresRow.c.computed_at < before)
        )
        return int(result.rowcount or 0)

    async def _members_by(self, column: Any, window: Window) -> dict[str, int]:
        """Members at `until` counted by the value of one of their columns."""
        rows = await self.conn.execute(
            select(column, func.count()).where(member_at(window.until)).group_by(column)
        )
        return {key: count for key, count in rows.all()}

    async def _activity(self, window: Window) -> dict[str, int]:
        """S, E and N of the retention rate, in one pass over the receipts of both active
        windows: members active at `since`, at `until`, and those of E who bought nothing
        before `since` (so their first purchase fell in the period)."""
        since, until = window.since, window.until
        buyers = (
            select(
                BUYER.label("member_id"),
                func.max(case((PURCHASES.occurred_at < since, 1), else_=0)).label("s"),
                func.max(case((PURCHASES.occurred_at >= window.active_until, 1), else_=0)).label(
                    "e"
                ),
            )
            .where(COUNTED, between(PURCHASES.occurred_at, window.active_since, until))
            .group_by(BUYER)
            .subquery()
        )
        earlier = PurchaseRow.alias("earlier")
        bought_before = (
            select(earlier.c.id)
            .where(
                earlier.c.member_id == buyers.c.member_id,
                earlier.c.refunded < earlier.c.total,
                earlier.c.occurred_at < since,
            )
            .exists()
        )
        active_now = and_(buyers.c.e == 1, member_at(until))
        s, e, n = (
            await self.conn.execute(
                select(
                    count_if(and_(buyers.c.s == 1, member_at(since))),
                    count_if(active_now),
                    count_if(and_(active_now, ~bought_before)),
                ).select_from(buyers.join(MemberRow, MEMBERS.id == buyers.c.member_id))
            )
        ).one()
        return {
            "active_at_since": int(s),
            "active_at_until": int(e),
            "active_first_bought_in_period": int(n),
        }

    async def _period_purchases(self, window: Window) -> tuple[Any, Any, Any, Any]:
        """Purchases in the period, members who made them, those with two or more, and the
        net revenue."""
        per_member = (
            select(func.count().label("made"), func.sum(NET).label("net"))
            .where(COUNTED, between(PURCHASES.occurred_at, window.since, window.until))
            .group_by(PURCHASES.member_id)
            .subquery()
        )
        row = (
            await self.conn.execute(
                select(
                    func.coalesce(func.sum(per_member.c.made), 0),
                    func.count(),
                    count_if(per_member.c.made >= 2),
                    func.coalesce(func.sum(per_member.c.net), 0),
                ).select_from(per_member)
            )
        ).one()
        return row[0], row[1], row[2], row[3]

    async def _lifetime(self, window: Window) -> dict[str, TierRevenue]:
        """Per tier: the members with a purchase before `until` and their net revenue."""
        per_member = (
            select(BUYER.label("member_id"), func.sum(NET).label("net"))
            .where(COUNTED, PURCHASES.occurred_at < window.until)
            .group_by(BUYER)
            .subquery()
        )
        rows = await self.conn.execute(
            select(MEMBERS.tier, func.count(), func.sum(per_member.c.net))
            .select_from(per_member.join(MemberRow, MEMBERS.id == per_member.c.member_id))
            .group_by(MEMBERS.tier)
        )
        return {tier: TierRevenue(customers, money(net)) for tier, customers, net in rows.all()}

    async def _points(self, window: Window) -> tuple[dict[str, int], dict[str, int]]:
        """Points credited and debited in the period, each by ledger kind."""
        rows = await self.conn.execute(
            select(
                LEDGER.kind,
                func.sum(case((LEDGER.points > 0, LEDGER.points), else_=0)),
                func.sum(case((LEDGER.points < 0, -LEDGER.points), else_=0)),
            )
            .where(between(LEDGER.created_at, window.since, window.until))
            .group_by(LEDGER.kind)
        )
        credited, debited = {}, {}
        for kind, added, taken in rows.all():
            credited[kind], debited[kind] = int(added), int(taken)
        return credited, debited

    async def _rewards(self, window: Window) -> dict[str, RewardFigures]:
        """Per reward: vouchers issued (and of them by stamp cards), used, and expired
        unused, in the period."""
        since, until = window.since, window.until
        rows = await self.conn.execute(
            select(
                VOUCHERS.reward_id,
                count_if(between(VOUCHERS.issued_at, since, until)),
                count_if(between(VOUCHERS.used_at, since, until)),
                count_if(
                    and_(between(VOUCHERS.expires_at, since, until), VOUCHERS.used_at.is_(None))
                ),
                count_if(
                    and_(
                        between(VOUCHERS.issued_at, since, until),
                        VOUCHERS.request_id.startswith(VOUCHER_REQUEST, autoescape=True),
                    )
                ),
            )
            .where(
                or_(
                    between(VOUCHERS.issued_at, since, until),
                    between(VOUCHERS.used_at, since, until),
                    between(VOUCHERS.expires_at, since, until),
                )
            )
            .group_by(VOUCHERS.reward_id)
        )
        return {
            reward: RewardFigures(int(issued), int(used), int(expired), int(stamped))
            for reward, issued, used, expired, stamped in rows.all()
        }

    async def _donations(self, window: Window) -> dict[str, tuple[int, int]]:
        """Per cause: points donated in the period and how many members gave them."""
        rows = await self.conn.execute(
            select(
                DONATIONS.cause_id,
                func.sum(DONATIONS.points),
                func.count(func.distinct(DONATIONS.member_id)),
            )
            .where(between(DONATIONS.created_at, window.since, window.until))
            .group_by(DONATIONS.cause_id)
        )
        return {cause: (int(points), members) for cause, points, members in rows.all()}
