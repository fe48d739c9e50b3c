"""The weekly counts and sums behind the charts, aggregated in the database.

Week boundaries are UTC instants worked out from the program's time zone by the domain, so
a week is the same seven local days on SQLite and PostgreSQL (no time zone arithmetic in
SQL). Each statement returns one row, or one per week and ledger kind; a row is put in its
week by a CASE over the boundaries, and each week's members are one column of a single
scan. The definitions are the report's (storage/repositories/metrics.py): a member is in
the program at an instant after joining and before being forgotten, a receipt refunded in
full is no purchase, revenue is net of refunds.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select

from domain.trends import WeekFacts, WeekWindow
from storage.aio import AsyncConnection
from storage.repositories.metrics import (
    BUYER,
    COUNTED,
    LEDGER,
    MEMBERS,
    NET,
    PURCHASES,
    between,
    count_if,
    member_at,
    money,
)
from storage.tables import MemberRow


def week_of(column: Any, weeks: Sequence[WeekWindow]) -> Any:
    """The index of the week an instant falls in (rows are filtered to the period first).
    A period of one week has one index: a CASE with no WHEN would not parse."""
    if len(weeks) == 1:
        return literal(0)
    return case(
        *[(column < week.until, index) for index, week in enumerate(weeks[:-1])],
        else_=len(weeks) - 1,
    )


class SqlTrends:
    """Implements `domain.ports.TrendRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def weekly(self, weeks: Sequence[WeekWindow]) -> list[WeekFacts]:
        """Every week's facts, in four aggregate statements."""
        members = (
            await self.conn.execute(select(*[count_if(member_at(week.until)) for week in weeks]))
        ).one()
        active = await self._active(weeks)
        credited, debited = await self._points(weeks)
        revenue = await self._revenue(weeks)
        return [
            WeekFacts(
                members=int(members[index]),
                active=active[index],
                credited=credited[index],
                debited=debited[index],
                revenue=revenue.get(index, Decimal(0)),
            )
            for index in range(len(weeks))
        ]

    async def _active(self, weeks: Sequence[WeekWindow]) -> list[int]:
        """Per week: members at its end with a purchase in the active window before it."""
        per_member = (
            select(
                BUYER.label("member_id"),
                *[
                    func.max(
                        case(
                            (between(PURCHASES.occurred_at, week.active_since, week.until), 1),
                            else_=0,
                        )
                    ).label(f"w{index}")
                    for index, week in enumerate(weeks)
                ],
            )
            .where(
                COUNTED,
                between(
                    PURCHASES.occurred_at, min(week.active_since for week in weeks), weeks[-1].until
                ),
            )
            .group_by(BUYER)
            .subquery()
        )
        row = (
            await self.conn.execute(
                select(
                    *[
                        count_if((per_member.c[f"w{index}"] == 1) & member_at(week.until))
                        for index, week in enumerate(weeks)
                    ]
                ).select_from(per_member.join(MemberRow, MEMBERS.id == per_member.c.member_id))
            )
        ).one()
        return [int(count) for count in row]

    async def _points(
        self,
        weeks: Sequence[WeekWindow],
    ) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
        """Per week: points credited and debited, each by ledger kind."""
        moves = (
            select(week_of(LEDGER.created_at, weeks).label("week"), LEDGER.kind, LEDGER.points)
            .where(between(LEDGER.created_at, weeks[0].since, weeks[-1].until))
            .subquery()
        )
        rows = await self.conn.execute(
            select(
                moves.c.week,
                moves.c.kind,
                func.sum(case((moves.c.points > 0, moves.c.points), else_=0)),
                func.sum(case((moves.c.points < 0, -moves.c.points), else_=0)),
            ).group_by(moves.c.week, moves.c.kind)
        )
        credited: list[dict[str, int]] = [{} for _ in weeks]
        debited: list[dict[str, int]] = [{} for _ in weeks]
        for index, kind, added, taken in rows.all():
            credited[index][kind], debited[index][kind] = int(added), int(taken)
        return credited, debited

    async def _revenue(self, weeks: Sequence[WeekWindow]) -> dict[int, Decimal]:
        """Per week with a purchase: the net revenue of the receipts that occurred in it."""
        receipts = (
            select(week_of(PURCHASES.occurred_at, weeks).label("week"), NET.label("net"))
            .where(COUNTED, between(PURCHASES.occurred_at, weeks[0].since, weeks[-1].until))
            .subquery()
        )
        rows = await self.conn.execute(
            select(receipts.c.week, func.sum(receipts.c.net)).group_by(receipts.c.week)
        )
        return {index: money(net) for index, net in rows.all()}
