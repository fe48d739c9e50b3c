"""`program simulate`: past receipts replayed under two programs, read-only, on both databases.

The bundled program gives 1 point per unit, 5 per visit (floor), 1 tier credit per unit;
Insider from 500 credits (x1.25). The new program here reaches Insider at 300.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.cli import main
from domain.program import Program, Tier
from domain.program_file import default_program_path, load_program
from domain.services.purchases import refund_purchase
from domain.services.rewards import redeem_reward
from domain.services.simulation import replay_members, simulate
from storage.database import Database
from storage.tables import AccountRow, MemberRow, metadata
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import buy, line, new_member

SINCE, UNTIL = NOW - timedelta(days=60), NOW + timedelta(days=1)


def insider_at_300(program: Program) -> Program:
    """The bundled program with Insider reached at 300 credits."""
    member, insider, prime = program.tiers.levels
    return replace(
        program,
        tiers=replace(
            program.tiers, levels=(member, Tier(insider.name, 300, insider.multiplier), prime)
        ),
    )


async def record_history(uow: SqlUnitOfWork, program: Program) -> None:
    """Three members, five receipts, a refund and a redemption, 30 days before NOW."""
    a, b, c = [await new_member(uow, program, n, now=NOW - timedelta(days=30)) for n in (1, 2, 3)]
    await buy(uow, program, a, "A1", line("X", "other", 1, "400.00"), now=NOW - timedelta(20))
    await buy(uow, program, a, "A2", line("X", "other", 1, "100.00"), now=NOW - timedelta(10))
    await buy(uow, program, a, "A3", line("X", "other", 1, "10.00"), now=NOW - timedelta(5))
    await buy(uow, program, b, "B1", line("X", "other", 1, "600.00"), now=NOW - timedelta(20))
    await buy(uow, program, c, "C1", line("X", "other", 1, "350.00"), now=NOW - timedelta(20))
    await refund_purchase(
        uow,
        program,
        merchant="main",
        receipt_id="C1",
        amount=Decimal("50.00"),
        now=NOW - timedelta(days=15),
    )
    await redeem_reward(
        uow, program, member_id=a.id, reward_id="coffee", now=NOW - timedelta(days=2)
    )


async def test_a_new_threshold_worked_out_by_hand(uow, program, database):
    await record_history(uow, program)
    comparison = await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True),
        program,
        insider_at_300(program),
        SINCE,
        UNTIL,
        page=2,
    )
    current, new = comparison.current, comparison.new
    # A: 405 + 105 (Insider after) + floor(15 x 1.25) = 528; new: 405 (Insider after)
    # + floor(105 x 1.25) = 131, + 18 = 554. B: 605 both. C: 355 less the refund's
    # floor(355 x 50 / 350) = 50 -> 305 both, 300 credits: Insider only under the new one.
    assert (comparison.receipts, comparison.revenue) == (5, Decimal("1410.00"))
    assert (current.points_issued, new.points_issued) == (1438, 1464)
    assert (current.tier_credits, new.tier_credits) == (1410, 1410)
    assert current.members_by_tier == {"Member": 1, "Insider": 2, "Prime": 0}
    assert new.members_by_tier == {"Member": 0, "Insider": 3, "Prime": 0}
    assert (comparison.moved_up, comparison.moved_down) == (1, 0)
    # Balances: 3 x 50 signup + 1488 earned - 50 clawed - 150 redeemed = 1438.
    assert (current.outstanding, new.outstanding) == (1438, 1438 + 26)
    assert comparison.redemption_rate == Decimal(150) / Decimal(150 + 1488)
    assert current.liability == Decimal("14.38")  # the bundled point value: 0.01


async def test_the_same_program_matches_what_the_ledger_awarded(uow, program, database):
    await record_history(uow, program)
    comparison = await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True),
        program,
        program,
        SINCE,
        UNTIL,
        page=3,
    )
    assert comparison.current == comparison.new
    assert (comparison.moved_up, comparison.moved_down) == (0, 0)
    async with database.reader.connect() as conn:
        balances = sum((await conn.execute(select(AccountRow.c.balance))).scalars())
        tiers = list((await conn.execute(select(MemberRow.c.tier))).scalars())
    assert comparison.current.outstanding == balances == 1438
    assert comparison.current.points_issued == 1438  # awarded less clawed, per receipt
    assert comparison.current.members_by_tier == {
        tier.name: tiers.count(tier.name) for tier in program.tiers.levels
    }


def range_replayer(database: Database, current: Program, new: Program, seen: list, before=None):
    """A replayer running each range here in a transaction of its own, as the worker
    processes do; `before` runs first (a write racing the simulation)."""

    async def replay(ranges: Sequence[tuple[int, int]], snapshot: str | None):
        if before is not None:
            await before()
        seen.extend(ranges)
        return [
            await replay_members(
                SqlUnitOfWork(database, read_only=True, snapshot=True),
                current,
                new,
                SINCE,
                UNTIL,
                members,
                snapshot,
                page=1,
            )
            for members in ranges
        ]

    return replay


async def test_ranges_of_members_replayed_apart_add_up_to_the_whole(uow, program, database):
    await record_history(uow, program)
    new = insider_at_300(program)
    whole = await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True), program, new, SINCE, UNTIL
    )
    seen: list[tuple[int, int]] = []
    split = await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True),
        program,
        new,
        SINCE,
        UNTIL,
        replayer=range_replayer(database, program, new, seen),
        parts=3,
    )
    assert split == whole
    async with database.reader.connect() as conn:
        ids = sorted((await conn.execute(select(MemberRow.c.id))).scalars())
    assert len(seen) == 3  # one member each, the ranges end to end over every member id
    assert [first for first, _ in seen] == ids
    assert seen[-1][1] == ids[-1] + 1


async def test_the_ranges_read_the_simulation_s_snapshot_not_a_later_purchase(
    uow, program, database
):
    if database.dialect != "postgresql":
        pytest.skip("SQLite readers cannot share a snapshot: each range reads its own")
    await record_history(uow, program)
    whole = await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True), program, program, SINCE, UNTIL
    )

    async def late_purchase() -> None:
        async with uow:
            member = await uow.members.get(1)
        assert member is not None
        await buy(
            uow,
            program,
            member,
            "LATE",
            line("X", "other", 1, "900.00"),
            now=NOW - timedelta(days=1),
        )

    split = await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True),
        program,
        program,
        SINCE,
        UNTIL,
        replayer=range_replayer(database, program, program, [], late_purchase),
        parts=2,
    )
    assert split == whole
    after = await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True), program, program, SINCE, UNTIL
    )
    assert after.receipts == whole.receipts + 1


async def snapshot(database: Database) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows."""
    result = {}
    async with database.reader.connect() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(select(table).order_by(*table.primary_key))).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            result[table.name] = (len(rows), digest)
    return result


async def test_a_simulation_writes_nothing(uow, program, database):
    await record_history(uow, program)
    before = await snapshot(database)
    assert before["purchases"][0] == 5
    await simulate(
        SqlUnitOfWork(database, read_only=True, snapshot=True),
        program,
        insider_at_300(program),
        SINCE,
        UNTIL,
        page=2,
    )
    assert await snapshot(database) == before


def in_thread(coroutine) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def prepared(url: str, monkeypatch) -> None:
    """A database at `url` with the schema and the history above; DATABASE_URL points at it."""
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0

    async def populate() -> None:
        database = Database(url)
        await record_history(SqlUnitOfWork(database), load_program(default_program_path()))
        await database.dispose()

    in_thread(populate())


def new_program_file(tmp_path):
    """The bundled program file with Insider at 300."""
    text = default_program_path().read_text()
    path = tmp_path / "new.toml"
    path.write_text(text.replace("threshold = 500", "threshold = 300"))
    return path


def test_the_command_prints_both_sides_and_the_change(
    empty_database_url, monkeypatch, tmp_path, capsys
):
    prepared(empty_database_url, monkeypatch)
    capsys.readouterr()
    assert (
        main(
            [
                "program",
                "simulate",
                str(new_program_file(tmp_path)),
                "--since",
                "2026-01-01",
                "--until",
                "2026-03-03",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    rows = {line[:32].strip(): line[32:].split() for line in out.splitlines()}
    assert rows["points issued"] == ["1,438", "1,464", "+26"]
    assert rows["Insider"] == ["2", "3", "+1"]
    assert rows["Member"] == ["1", "0", "-1"]
    assert rows["liability"] == ["$14.38", "$14.64", "+$0.26"]
    assert "1 member would move up a tier, 0 members down" in out
    for jobs in ("1", "3"):  # in this process, and replayed by three worker processes
        assert (
            main(
                [
                    "program",
                    "simulate",
                    str(new_program_file(tmp_path)),
                    "--jobs",
                    jobs,
                    "--since",
                    "2026-01-01",
                    "--until",
                    "2026-03-03",
                ]
            )
            == 0
        )
        assert capsys.readouterr().out == out


def test_jobs_must_be_a_count_of_processes(empty_database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    for jobs in ("0", "65", "²", "-1", "two"):
        with pytest.raises(SystemExit) as exited:
            main(["program", "simulate", str(new_program_file(tmp_path)), "--jobs", jobs])
        assert exited.value.code == 2
        assert "--jobs: expected a whole number from 1 to 64" in capsys.readouterr().err


def test_a_bad_new_file_is_reported_like_program_check(
    empty_database_url, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    path = tmp_path / "bad.toml"
    path.write_text(default_program_path().read_text().replace("per_visit = 5", "per_visit = -5"))
    assert main(["program", "simulate", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path} is not a valid program (1 problem):")
    assert "  earning.per_visit: " in err


def test_bad_dates_exit_2_with_one_line(empty_database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    path = new_program_file(tmp_path)
    assert main(["program", "simulate", str(path), "--since", "2026-13-01"]) == 2
    assert capsys.readouterr().err == (
        "loyalty-bot: --since: expected a date as YYYY-MM-DD from 2000-01-01 to 9998-12-31, "
        "got '2026-13-01'\n"
    )
    assert (
        main(["program", "simulate", str(path), "--since", "2026-03-01", "--until", "2026-02-01"])
        == 2
    )
    assert capsys.readouterr().err == (
        "loyalty-bot: --since: 2026-03-01 must be before --until (2026-02-01)\n"
    )


def test_no_receipts_and_no_point_value_print_zeros_and_n_a(
    empty_database_url, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    unvalued = tmp_path / "unvalued.toml"
    unvalued.write_text(
        default_program_path().read_text().replace("point_value = 0.01", "point_value = 0")
    )
    monkeypatch.setenv("LOYALTY_PROGRAM", str(unvalued))
    assert main(["program", "simulate", str(unvalued)]) == 1  # no schema yet: nothing made
    assert "run `loyalty-bot db upgrade` first" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["program", "simulate", str(unvalued)]) == 0
    out = capsys.readouterr().out
    rows = {line[:32].strip(): line[32:].split() for line in out.splitlines()}
    assert "0 receipts replayed" in out
    assert "observed redemption rate n/a" in out
    assert rows["points issued"] == ["0", "0", "0"]
    assert rows["liability"] == rows["effective reward rate"] == ["n/a", "n/a", "n/a"]
    assert "n/a: liability, reward rate and redemption cost need a point value" in out
