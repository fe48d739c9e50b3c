"""Program metrics on hand-made rows, each expected figure worked out by hand below.

The program's time zone is America/New_York (UTC-5 in February), so the period
2026-02-01 to 2026-03-01 is [2026-02-01 05:00, 2026-03-01 05:00) UTC. `active_days` is 30:
active at `since` = a purchase in [2026-01-02, 2026-02-01) local, at `until` = a purchase
in [2026-01-30, 2026-03-01) local.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidRequest
from domain.metrics import CauseFigures, RewardFigures, as_json
from domain.program import MetricsRules, Program
from domain.services.members import forget
from domain.services.metrics import program_metrics
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase, refund_purchase
from storage.database import Database
from storage.tables import (
    DonationRow,
    MemberRow,
    PurchaseRow,
    ReferralRow,
    TransactionRow,
    VoucherRow,
)
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import buy, line, new_member

SINCE, UNTIL = date(2026, 2, 1), date(2026, 3, 1)
ALICE, BOB, CAROL, DAVE, ERIN = 1, 2, 3, 4, 5


def at(day: str, clock: str = "12:00") -> datetime:
    """A UTC instant."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


def measured(program: Program, point_value: str = "0.01") -> Program:
    """The example program with a 30-day activity window and a point value."""
    return replace(program, metrics=MetricsRules(active_days=30, point_value=Decimal(point_value)))


async def insert(database: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    """Write rows straight into a table."""
    async with database.writer.begin() as conn:
        for row in rows:
            await conn.execute(table.insert().values(**row))


def member(member_id: int, joined: str, tier: str, locale: str, **extra: Any) -> dict[str, Any]:
    return {"id": member_id, "locale": locale, "tier": tier, "joined_at": at(joined), **extra}


def receipt(
    number: int,
    member_id: int,
    occurred: datetime,
    total: str,
    refunded: str = "0",
    recorded: datetime | None = None,
) -> dict[str, Any]:
    return {
        "merchant": "main",
        "receipt_id": f"R{number}",
        "member_id": member_id,
        "body_hash": "x",
        "total": Decimal(total),
        "refunded": Decimal(refunded),
        "points_awarded": 0,
        "tier_credits": 0,
        "lines": {},
        "answer": {},
        "occurred_at": occurred,
        "recorded_at": recorded or occurred,
    }


def posting(member_id: int, kind: str, points: int, day: str) -> dict[str, Any]:
    return {"member_id": member_id, "kind": kind, "points": points, "created_at": at(day)}


def voucher(
    number: int, reward: str, issued: str, expires: str, used: str | None = None
) -> dict[str, Any]:
    return {
        "code": f"V{number}",
        "member_id": ALICE,
        "reward_id": reward,
        "cost": 100,
        "issued_at": at(issued),
        "expires_at": at(expires),
        "used_at": at(used) if used else None,
    }


async def seed(database: Database) -> None:
    """Five members, their receipts, points, vouchers, invitations and donations."""
    await insert(
        database,
        MemberRow,
        [
            member(ALICE, "2025-12-01", "Insider", "en"),
            member(BOB, "2026-01-05", "Member", "es"),
            member(CAROL, "2026-02-03", "Member", "en"),  # new in the period
            member(
                DAVE,
                "2026-02-04",
                "Member",
                "en",  # new, and forgot in the period: left
                forgotten_at=at("2026-02-25"),
                reachable=False,
            ),
            member(ERIN, "2025-11-01", "Prime", "es", reachable=False),  # blocked the bot
        ],
    )
    await insert(
        database,
        PurchaseRow,
        [
            receipt(1, ALICE, at("2026-01-10"), "100.00"),
            receipt(2, ALICE, at("2026-02-05"), "40.00"),
            receipt(3, ALICE, at("2026-02-20"), "60.00", refunded="10.00"),  # partial refund
            receipt(4, ALICE, at("2026-03-01", "05:00"), "70.00"),  # local midnight: outside
            receipt(5, BOB, at("2026-01-20"), "50.00"),
            receipt(6, BOB, at("2026-02-10"), "30.00", refunded="30.00"),  # refunded in full
            receipt(7, CAROL, at("2026-02-15"), "20.00", recorded=at("2026-03-10")),  # late
            receipt(8, DAVE, at("2026-02-06"), "25.00"),
            receipt(9, ERIN, at("2025-12-15"), "15.00"),
            receipt(10, ERIN, at("2026-03-05"), "80.00"),  # after the period
        ],
    )
    await insert(
        database,
        TransactionRow,
        [
            posting(ALICE, "signup", 50, "2025-12-01"),  # before: outstanding only
            posting(ALICE, "purchase", 100, "2026-01-10"),
            posting(ALICE, "purchase", 40, "2026-02-05"),
            posting(ALICE, "purchase", 60, "2026-02-20"),
            posting(CAROL, "signup", 50, "2026-02-03"),
            posting(DAVE, "signup", 50, "2026-02-04"),
            posting(CAROL, "referral_invitee", 25, "2026-02-03"),
            posting(ALICE, "referral", 100, "2026-02-15"),
            posting(ALICE, "referral_milestone", 200, "2026-02-15"),
            posting(BOB, "bonus", 10, "2026-02-11"),
            posting(ERIN, "surprise", 100, "2026-02-12"),
            posting(BOB, "adjustment", 30, "2026-02-13"),
            posting(ALICE, "adjustment", -5, "2026-02-14"),
            posting(ALICE, "redemption", -150, "2026-02-16"),
            posting(ALICE, "donation", -40, "2026-02-17"),
            posting(ERIN, "expiry", -20, "2026-02-18"),
            posting(ALICE, "refund", -6, "2026-02-21"),
            posting(DAVE, "forfeit", -45, "2026-02-25"),
            posting(ALICE, "redemption", -30, "2026-03-02"),  # after the period
        ],
    )
    await insert(
        database,
        VoucherRow,
        [
            voucher(1, "coffee", "2026-02-10", "2026-04-10", used="2026-02-12"),
            voucher(2, "coffee", "2026-01-01", "2026-02-15"),  # expired unused in the period
            voucher(3, "coffee", "2026-01-01", "2026-03-15", used="2026-02-02"),
            voucher(4, "tote", "2026-02-20", "2026-04-20"),
            voucher(5, "tote", "2026-01-01", "2026-03-10"),  # nothing happened in the period
        ],
    )
    await insert(
        database,
        ReferralRow,
        [
            {
                "referrer_id": ALICE,
                "invitee_id": CAROL,
                "status": "rewarded",
                "joined_at": at("2026-02-03"),
                "qualified_at": at("2026-02-15"),
            },
            {
                "referrer_id": ALICE,
                "invitee_id": DAVE,
                "status": "void",
                "joined_at": at("2026-02-04"),
                "qualified_at": at("2026-02-25"),
            },
            {
                "referrer_id": ALICE,
                "invitee_id": BOB,
                "status": "rewarded",
                "joined_at": at("2026-01-05"),
                "qualified_at": at("2026-01-20"),
            },
        ],
    )
    donation_ledger = [posting(ALICE, "donation", -1, "2026-01-01")]  # their transaction
    await insert(database, TransactionRow, donation_ledger)
    await insert(
        database,
        DonationRow,
        [
            {
                "member_id": member_id,
                "cause_id": cause,
                "points": points,
                "transaction_id": 20,
                "created_at": at(day),
            }
            for member_id, cause, points, day in [
                (ALICE, "trees", 150, "2026-02-08"),
                (CAROL, "trees", 60, "2026-02-09"),
                (ALICE, "trees", 90, "2026-01-20"),  # before the period
                (ALICE, "meals", 120, "2026-02-09"),
                (ALICE, "meals", 10, "2026-02-19"),
                (CAROL, "gone", 5, "2026-02-09"),  # a cause the program no longer lists
            ]
        ],
    )


async def test_every_figure_of_a_period(database: Database, program: Program) -> None:
    await seed(database)
    read_only = SqlUnitOfWork(database, read_only=True)
    figures = await program_metrics(read_only, measured(program), SINCE, UNTIL)

    members = figures.members
    assert members.total == 4  # Alice, Bob, Carol, Erin: Dave was forgotten before `until`
    assert members.new == 2  # Carol and Dave joined in February
    assert members.left == 1  # Dave
    assert members.unreachable == 1  # Erin blocked the bot (Dave is no longer a member)
    assert members.by_tier == {"Insider": 1, "Member": 2, "Prime": 1}
    assert members.by_locale == {"en": 2, "es": 2}
    # active at until: Alice (R2, R3) and Carol (R7); Bob's R6 was refunded in full, Dave left
    assert members.active == 2
    # S: Alice (R1 Jan 10) and Bob (R5 Jan 20); E = 2; N = 1 (Carol's first is R7, Feb 15)
    # (E - N) / S x 100 = (2 - 1) / 2 x 100
    assert figures.retention_rate == Decimal("50.00")
    # in the period: R2, R3 (Alice), R7 (Carol), R8 (Dave); R6 refunded in full, R4 at until
    assert figures.purchases == 4
    assert figures.repeat_purchase_rate == Decimal("33.33")  # 1 of 3 buyers bought twice
    assert figures.purchase_frequency == Decimal("1.33")  # 4 / 3
    assert figures.revenue == Decimal("135.00")  # 40 + (60 - 10) + 20 + 25
    assert figures.average_order_value == Decimal("33.75")  # 135 / 4
    # lifetime net before until: Alice 100 + 40 + 50 = 190, Bob 50, Carol 20, Dave 25,
    # Erin 15: 300 over 5 members
    assert figures.clv == Decimal("60.00")
    assert figures.clv_by_tier == {
        "Insider": Decimal("190.00"),  # Alice
        "Member": Decimal("31.67"),  # (50 + 20 + 25) / 3 = 31.666…
        "Prime": Decimal("15.00"),  # Erin
    }

    points = figures.points
    assert points.issued == {
        "purchase": 100,
        "signup": 100,
        "referral": 125,
        "milestone": 200,
        "bonus": 10,
        "surprise": 100,
        "adjustment": 30,
        "action": 0,
        "birthday": 0,
        "challenge": 0,
        "promotion": 0,
    }
    assert points.issued_total == 665  # 100 + 100 + 125 + 200 + 10 + 100 + 30
    assert (points.redeemed, points.donated, points.expired) == (150, 40, 20)
    assert (points.clawed_back, points.removed, points.forfeited) == (6, 5, 45)
    # before the period 50 + 100 - 1 = 149; + 665 issued - 266 taken (150+40+20+6+5+45)
    assert points.outstanding == 548
    assert points.liability == Decimal("5.48")  # 548 x 0.01
    assert points.redemption_rate == Decimal("22.56")  # 150 / 665 x 100 = 22.556…
    assert points.rewards == {
        "coffee": RewardFigures(issued=1, used=2, expired=1),  # V1 issued; V1, V3 used; V2
        "tote": RewardFigures(issued=1, used=0, expired=0),  # V4; V5 expires after until
    }

    # invited in the period: Carol (qualified) and Dave (void); Bob was invited in January
    assert (figures.referrals.joined, figures.referrals.qualified) == (2, 1)
    assert figures.referrals.conversion_rate == Decimal("50.00")
    assert figures.donations == {
        "gone": CauseFigures(points=5, impact=None, members=1),
        "meals": CauseFigures(points=130, impact=2, members=1),  # 130 // 50 a meal
        "trees": CauseFigures(points=210, impact=2, members=2),  # 210 // 100 a tree
    }


async def test_an_empty_period_has_zeros_and_no_rates(database: Database, program: Program) -> None:
    await seed(database)
    read_only = SqlUnitOfWork(database, read_only=True)
    figures = await program_metrics(
        read_only, measured(program, "0"), date(2020, 1, 1), date(2020, 2, 1)
    )
    assert (figures.members.total, figures.members.new, figures.members.active) == (0, 0, 0)
    assert figures.members.by_tier == {}
    assert figures.members.by_locale == {}
    assert figures.retention_rate is None  # S = 0
    assert figures.purchases == 0
    assert figures.revenue == Decimal("0.00")
    assert figures.repeat_purchase_rate is None
    assert figures.purchase_frequency is None
    assert figures.average_order_value is None
    assert figures.clv is None
    assert figures.clv_by_tier == {}
    assert figures.points.issued_total == 0
    assert figures.points.outstanding == 0
    assert figures.points.liability is None  # point_value 0: not valued
    assert figures.points.redemption_rate is None
    assert figures.points.rewards == {}
    assert figures.referrals.conversion_rate is None
    assert figures.donations == {}


async def test_json_has_money_as_strings_and_rates_as_numbers(
    database: Database, program: Program
) -> None:
    await seed(database)
    read_only = SqlUnitOfWork(database, read_only=True)
    shown = as_json(await program_metrics(read_only, measured(program), SINCE, UNTIL))
    assert shown["since"] == "2026-02-01"
    assert shown["until"] == "2026-03-01"
    assert shown["revenue"] == "135.00"
    assert shown["clv"] == "60.00"
    assert shown["retention_rate"] == 50.0
    assert shown["purchase_frequency"] == 1.33
    assert shown["points"]["liability"] == "5.48"  # type: ignore[index]
    assert shown["points"]["rewards"]["tote"] == {  # type: ignore[index]
        "issued": 1,
        "used": 0,
        "expired": 0,
        "from_stamps": 0,
    }


async def test_a_reversed_period_is_refused(database: Database, program: Program) -> None:
    with pytest.raises(InvalidRequest):
        await program_metrics(SqlUnitOfWork(database, read_only=True), program, UNTIL, SINCE)


async def test_the_points_of_a_period_balance(database: Database, program: Program) -> None:
    await seed(database)
    read_only, measuring = SqlUnitOfWork(database, read_only=True), measured(program)
    before = await program_metrics(read_only, measuring, date(2025, 11, 1), SINCE)
    during = (await program_metrics(read_only, measuring, SINCE, UNTIL)).points
    assert before.points.outstanding == 149  # 50 + 100 - 1, all before February
    taken = (
        during.redeemed
        + during.donated
        + during.expired
        + during.clawed_back
        + during.removed
        + during.forfeited
    )
    assert before.points.outstanding + during.issued_total - taken == during.outstanding


async def test_figures_of_rows_written_by_the_services(
    uow: SqlUnitOfWork, program: Program
) -> None:
    """The same definitions over what joining, buying, refunding and forgetting write."""
    ann = await new_member(uow, program, 101, now=at("2026-01-05"))
    await buy(uow, program, ann, "A1", line("X", "other", 1, "10.00"), now=at("2026-01-10"))
    ben = await new_member(uow, program, 102, now=at("2026-02-02"))
    await buy(uow, program, ben, "B1", line("X", "other", 1, "20.00"), now=at("2026-02-03"))
    full = await refund_purchase(
        uow,
        program,
        merchant="main",
        receipt_id="B1",
        amount=Decimal("20.00"),
        now=at("2026-02-04"),
    )
    await buy(uow, program, ben, "B2", line("X", "other", 1, "30.00"), now=at("2026-02-05"))
    part = await refund_purchase(
        uow,
        program,
        merchant="main",
        receipt_id="B2",
        amount=Decimal("12.00"),
        now=at("2026-02-06"),
    )
    cid = await new_member(uow, program, 103, now=at("2026-02-07"))
    await buy(uow, program, cid, "C1", line("X", "other", 1, "5.00"), now=at("2026-02-08"))
    forfeited = await forget(uow, cid.id, at("2026-02-09"))
    assert ann.code is not None
    for receipt_id, total, occurred, recorded in [
        ("A2", "40.00", at("2026-02-20"), at("2026-03-03")),  # recorded after the period
        ("A3", "7.00", at("2026-02-01", "04:00"), at("2026-02-25")),  # Jan 31, 23:00 local
    ]:
        await record_purchase(
            uow,
            program,
            ReceiptIn(
                receipt_id,
                MemberRef("member_code", ann.code),
                [line("X", "other", 1, total)],
                occurred,
            ),
            now=recorded,
        )

    figures = await program_metrics(
        SqlUnitOfWork(uow.database, read_only=True), measured(program), SINCE, UNTIL
    )
    members = figures.members
    assert (members.total, members.new, members.left) == (2, 2, 1)  # Ann, Ben; Ben, Cid; Cid
    # S: Ann (A1 Jan 10, A3 Jan 31 local). E: Ann (A2), Ben (B2; B1 refunded in full).
    # N: Ben, whose first purchase that counts is B2 (Feb 5). (2 - 1) / 1 x 100
    assert (members.active, figures.retention_rate) == (2, Decimal("100.00"))
    assert figures.purchases == 3  # B2, C1, A2: B1 refunded in full, A3 in January
    assert figures.repeat_purchase_rate == Decimal("0.00")  # 3 buyers, one purchase each
    assert figures.purchase_frequency == Decimal("1.00")
    assert figures.revenue == Decimal("63.00")  # (30 - 12) + 5 + 40
    assert figures.average_order_value == Decimal("21.00")  # 63 / 3
    assert figures.clv == Decimal("26.67")  # Ann 10 + 7 + 40, Ben 18, Cid 5: 80 / 3
    points = figures.points
    signup = program.info.signup_bonus
    assert points.issued["signup"] == 2 * signup  # Ben and Cid joined in February
    assert points.clawed_back == full.refund.points_clawed + part.refund.points_clawed > 0
    assert points.forfeited == forfeited > 0
    # nothing moved after `until`: what is outstanding then is what the members hold now
    async with uow:
        held = sum([await uow.ledger.balance(m.id) for m in (ann, ben, cid)])
    assert points.outstanding == held
