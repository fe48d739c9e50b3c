"""Weekly trends on hand-made rows, each expected figure worked out by hand below.

The program's time zone is America/New_York, which moves to summer time on 2026-03-08:
the period 2026-03-02 to 2026-03-18 has the weeks [03-02, 03-09), [03-09, 03-16) and
[03-16, 03-18), whose ends are 2026-03-09 04:00, 03-16 04:00 and 03-18 04:00 UTC (EDT,
UTC-4). `active_days` is 30: active at a week's end = a purchase, not refunded in full, in
the 30 local days before it, by a member still in the program.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidRequest
from domain.program import Program
from domain.services.trends import weekly_trends
from domain.trends import MAX_WEEKS, Week
from storage.database import Database
from storage.tables import MemberRow, PurchaseRow, TransactionRow
from storage.uow import SqlUnitOfWork
from tests.integration.test_metrics import at, insert, measured, member, receipt

SINCE, UNTIL = date(2026, 3, 2), date(2026, 3, 18)
ANA, BEN, CAT, DAN = 1, 2, 3, 4


def moved(
    member_id: int,
    kind: str,
    points: int,
    day: str,
    clock: str = "12:00",
) -> dict[str, Any]:
    """A ledger transaction at a UTC instant."""
    return {"member_id": member_id, "kind": kind, "points": points, "created_at": at(day, clock)}


async def seed_weeks(database: Database) -> None:
    """Four members, their receipts and points around the three weeks."""
    await insert(
        database,
        MemberRow,
        [
            member(ANA, "2026-01-10", "Member", "en"),
            member(BEN, "2026-03-03", "Member", "es"),  # joins in week 0
            member(
                CAT,
                "2026-03-10",
                "Member",
                "en",  # joins in week 1, forgotten in week 2
                forgotten_at=at("2026-03-17"),
            ),
            member(DAN, "2025-06-01", "Member", "en"),  # last bought long ago: never active
        ],
    )
    await insert(
        database,
        PurchaseRow,
        [
            receipt(1, ANA, at("2026-02-20"), "40.00"),  # before the period: active, no revenue
            receipt(2, ANA, at("2026-03-09", "03:30"), "10.00"),  # 03-08 23:30 local: week 0
            receipt(3, BEN, at("2026-03-09", "04:30"), "25.00"),  # 03-09 00:30 local: week 1
            receipt(4, BEN, at("2026-03-10"), "30.00", refunded="30.00"),  # refunded: no purchase
            receipt(5, CAT, at("2026-03-11"), "5.00"),
            receipt(6, BEN, at("2026-03-16"), "50.00", refunded="20.00"),  # week 2, net 30.00
            receipt(7, DAN, at("2025-12-01"), "15.00"),
            receipt(8, ANA, at("2026-03-18", "04:00"), "99.00"),  # local midnight: after
        ],
    )
    await insert(
        database,
        TransactionRow,
        [
            moved(ANA, "purchase", 40, "2026-02-20"),  # before the period
            moved(ANA, "purchase", 10, "2026-03-09", "03:30"),  # week 0
            moved(BEN, "signup", 50, "2026-03-03"),
            moved(ANA, "redemption", -20, "2026-03-05"),
            moved(BEN, "purchase", 25, "2026-03-09", "04:30"),  # week 1
            moved(CAT, "signup", 50, "2026-03-10"),
            moved(ANA, "adjustment", 4, "2026-03-11"),  # issued
            moved(ANA, "adjustment", -3, "2026-03-11"),  # removed: none of the four
            moved(ANA, "donation", -15, "2026-03-12"),
            moved(DAN, "expiry", -7, "2026-03-13"),
            moved(BEN, "purchase", 30, "2026-03-16"),  # week 2
            moved(BEN, "refund", -6, "2026-03-16"),  # clawed back: none of the four
            moved(ANA, "expiry", -2, "2026-03-17"),
            moved(CAT, "forfeit", -50, "2026-03-17"),  # forfeited: none of the four
            moved(ANA, "redemption", -9, "2026-03-18", "04:00"),  # after the period
        ],
    )


async def test_every_figure_of_every_week(database: Database, program: Program) -> None:
    await seed_weeks(database)
    weeks = await weekly_trends(
        SqlUnitOfWork(database, read_only=True), measured(program), SINCE, UNTIL
    )
    assert weeks == [
        # Members: Ana, Ben, Dan. Active: Ana (Ben's first purchase is after the end).
        Week(
            start=date(2026, 3, 2),
            end=date(2026, 3, 9),
            members=3,
            active=1,
            issued=10 + 50,
            redeemed=20,
            expired=0,
            donated=0,
            revenue=Decimal("10.00"),
        ),
        # Members: all four. Active: Ana (02-20, 03-08), Ben (03-09), Cat (03-11).
        Week(
            start=date(2026, 3, 9),
            end=date(2026, 3, 16),
            members=4,
            active=3,
            issued=25 + 50 + 4,
            redeemed=0,
            expired=7,
            donated=15,
            revenue=Decimal("30.00"),
        ),  # 25.00 + 5.00; the refunded 30.00 is no purchase
        # Cat was forgotten: members Ana, Ben, Dan; active Ana (02-20 is 26 days before), Ben.
        Week(
            start=date(2026, 3, 16),
            end=date(2026, 3, 18),
            members=3,
            active=2,
            issued=30,
            redeemed=0,
            expired=2,
            donated=0,
            revenue=Decimal("30.00"),
        ),
    ]


async def test_a_period_of_one_week_or_less_is_one_week(
    database: Database, program: Program
) -> None:
    """One window only (the dashboard lets an admin pick a few days): the same figures as
    that week in a longer period."""
    await seed_weeks(database)
    reader = SqlUnitOfWork(database, read_only=True)
    longer = await weekly_trends(reader, measured(program), SINCE, UNTIL)
    shorter = await weekly_trends(reader, measured(program), date(2026, 3, 16), UNTIL)
    assert shorter == longer[-1:]


async def test_an_empty_database_has_weeks_of_zeros(database: Database, program: Program) -> None:
    weeks = await weekly_trends(
        SqlUnitOfWork(database, read_only=True), program, date(2026, 1, 1), date(2026, 1, 15)
    )
    assert [(w.start, w.end) for w in weeks] == [
        (date(2026, 1, 1), date(2026, 1, 8)),
        (date(2026, 1, 8), date(2026, 1, 15)),
    ]
    assert {
        (w.members, w.active, w.issued, w.redeemed, w.expired, w.donated, w.revenue) for w in weeks
    } == {(0, 0, 0, 0, 0, 0, Decimal("0.00"))}


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (date(2026, 3, 2), date(2026, 3, 2)),
        (date(2026, 3, 3), date(2026, 3, 2)),
        (date(2020, 1, 1), date(2020 + MAX_WEEKS // 52 + 1, 1, 1)),
    ],
)
async def test_a_period_the_charts_cannot_cover_is_refused(
    database: Database, program: Program, since: date, until: date
) -> None:
    with pytest.raises(InvalidRequest):
        await weekly_trends(SqlUnitOfWork(database, read_only=True), program, since, until)
