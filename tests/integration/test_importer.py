"""`loyalty-bot import purchases`: grouping, idempotency, the error file and exit codes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot import importer
from bot.importer import import_purchases
from domain.services.audit import audit_log
from domain.services.members import update_settings
from storage.checks import check_invariants
from storage.tables import PurchaseRow
from tests.conftest import NOW
from tests.integration.helpers import balance, buy, line, new_member

HEADER = "receipt_id,member,sku,category,quantity,unit_price,occurred_at"
PHONE = "+15550001234"


def write(tmp_path: Path, name: str, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def errors_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def run(database, program, path: Path, **options) -> int:
    return await import_purchases(database, program, path, clock=lambda: NOW, **options)


async def three_members(uow, program):
    by_code = await new_member(uow, program, 1)
    by_phone = await new_member(uow, program, 2)
    await update_settings(uow, by_phone.id, phone=PHONE)
    by_telegram = await new_member(uow, program, 3)
    return by_code, by_phone, by_telegram


def good_rows(code: str) -> list[str]:
    """The worked example (252 points) split across the file, and two one-line receipts."""
    return [
        f"R-1,{code},SNEAKER,shoes,1,100.00,2026-03-01T10:00:00",
        f"R-2,{PHONE},LATTE,coffee,2,4.50,2026-03-01T11:00:00+01:00",
        f"R-1,{code},LATTE,coffee,2,4.50,2026-03-01T10:00:00Z",
        "R-3,3,X,misc,1,10,",
        f"R-1,{code.lower()},BEANS-1KG,coffee,1,18.00,2026-03-01 10:00",
    ]


async def test_good_rows_are_grouped_by_receipt_wherever_they_are(
    uow, program, database, tmp_path, capsys
):
    by_code, by_phone, by_telegram = await three_members(uow, program)
    assert by_code.code is not None
    path = write(tmp_path, "sales.csv", *good_rows(by_code.code))

    assert await run(database, program, path) == 0

    assert await balance(uow, by_code) == 50 + 252
    assert await balance(uow, by_phone) == 50 + 14  # 9 spent + 5 per visit
    assert await balance(uow, by_telegram) == 50 + 15
    async with uow:
        receipt = await uow.purchases.get("main", "R-1")
        other = await uow.purchases.get("main", "R-2")
        undated = await uow.purchases.get("main", "R-3")
    assert receipt is not None
    assert other is not None
    assert undated is not None
    assert receipt.tier_credits == 127
    assert receipt.occurred_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert other.occurred_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert undated.occurred_at == NOW
    out = capsys.readouterr().out
    assert "5 rows in 3 receipts" in out
    assert "3 receipts imported, 281 points awarded" in out
    assert "0 receipts already imported" in out
    assert "no row failed" in out
    assert not (tmp_path / "sales.errors.csv").exists()
    assert await check_invariants(database) == []


async def test_a_second_run_of_the_same_file_awards_nothing(
    uow, program, database, tmp_path, capsys
):
    by_code, by_phone, by_telegram = await three_members(uow, program)
    assert by_code.code is not None
    path = write(tmp_path, "sales.csv", *good_rows(by_code.code))
    assert await run(database, program, path) == 0
    before = [await balance(uow, m) for m in (by_code, by_phone, by_telegram)]
    capsys.readouterr()

    assert await run(database, program, path) == 0

    assert [await balance(uow, m) for m in (by_code, by_phone, by_telegram)] == before
    out = capsys.readouterr().out
    assert "0 receipts imported, 0 points awarded" in out
    assert "3 receipts already imported, nothing awarded again" in out
    assert await check_invariants(database) == []


async def test_bad_rows_fail_their_receipt_and_go_to_the_error_file(
    uow, program, database, tmp_path, capsys
):
    member = await new_member(uow, program, 1)
    code = member.code
    assert code is not None
    assert (
        await run(database, program, write(tmp_path, "first.csv", f"R-9,{code},X,misc,1,10,")) == 0
    )
    after_first = await balance(uow, member)
    path = write(
        tmp_path,
        "sales.csv",
        f"G-1,{code},X,misc,1,20,",  # 2: good
        f"Q-1,{code},X,misc,two,20,",  # 3: bad quantity
        f"P-1,{code},X,misc,1,1.23456,",  # 4: bad price
        f"Q-1,{code},Y,misc,1,5,",  # 5: fine, in a bad receipt
        "N-1,KKKK-KKKK,X,misc,1,10,",  # 6: nobody has this code
        f"D-1,{code},X,misc,1,10,2026-13-01",  # 7: no such month
        f"M-1,{code},X,misc,1,10,",  # 8: fine ...
        "M-1,3,Y,misc,1,10,",  # 9: ... but another member
        f"R-9,{code},X,misc,2,10,",  # 10: R-9 again, other lines
        f"F-1,{code},X,misc,1,10,2026-04-01T00:00",  # 11: after NOW
        f"G-2,{code},X,misc,1,30,",  # 12: good
    )

    assert await run(database, program, path) == 1

    assert await balance(uow, member) == after_first + (20 + 5) + (30 + 5)
    rows = errors_of(tmp_path / "sales.errors.csv")
    assert [(r["line"], r["receipt_id"], r["reason"]) for r in rows] == [
        ("3", "Q-1", 'quantity "two" is not a whole number from 1 to 100,000'),
        (
            "4",
            "P-1",
            'unit_price "1.23456" is not a number from 0 to 1,000,000,000 with at most 4 decimals',
        ),
        ("5", "Q-1", "receipt Q-1 has a bad row at line 3"),
        ("6", "N-1", "no member KKKK-KKKK"),
        ("7", "D-1", 'occurred_at "2026-13-01" is not an ISO 8601 date and time'),
        ("8", "M-1", "receipt M-1 has a bad row at line 9"),
        ("9", "M-1", f'member "3" differs from "{code}" on line 8 of the same receipt'),
        ("10", "R-9", "receipt R-9 was already imported with different lines"),
        ("11", "F-1", "occurred_at is in the future"),
    ]
    assert rows[0] == {
        "line": "3",
        "receipt_id": "Q-1",
        "reason": rows[0]["reason"],
        "member": code,
        "sku": "X",
        "category": "misc",
        "quantity": "two",
        "unit_price": "20",
        "occurred_at": "",
    }
    out = capsys.readouterr().out
    assert "11 rows in 9 receipts" in out
    assert "2 receipts imported, 60 points awarded" in out
    assert f"7 receipts and 9 rows failed: see {tmp_path / 'sales.errors.csv'}" in out
    assert await check_invariants(database) == []


async def test_cells_the_database_cannot_store_fail_their_receipt(uow, program, database, tmp_path):
    """A NUL in any cell, a Telegram id past BIGINT, a 5000-digit number, a text longer
    than its column, a time before 2000 or without a UTC equivalent: the receipt fails
    naming the line and the column; nothing is stored (a NUL on PostgreSQL, a 5000-digit
    number and a year-1 time with an offset used to stop the whole import with a traceback)."""
    member = await new_member(uow, program, 1)
    code = member.code
    assert code is not None
    before = await balance(uow, member)
    path = write(
        tmp_path,
        "sales.csv",
        f"N-1,{code},LAT\x00TE,coffee,1,4.50,",  # 2
        f"N-2,{code},LATTE,cof\x00fee,1,4.50,",  # 3
        f"N\x003,{code},LATTE,coffee,1,4.50,",  # 4
        f"N-4,{code}\x00,LATTE,coffee,1,4.50,",  # 5
        f"N-5,{code},LATTE,coffee,1\x00,4.50,",  # 6
        f"N-6,{code},LATTE,coffee,1,4.50,2026-03-01\x00",  # 7
        f"T-1,{2**63},LATTE,coffee,1,4.50,",  # 8: past BIGINT
        f"T-2,{'9' * 5000},LATTE,coffee,1,4.50,",  # 9
        f"Q-1,{code},LATTE,coffee,{'9' * 5000},4.50,",  # 10
        f"L-1,{code},{'S' * 65},coffee,1,4.50,",  # 11
        f"L-2,{code},LATTE,{'c' * 65},1,4.50,",  # 12
        f"{'R' * 121},{code},LATTE,coffee,1,4.50,",  # 13
        f"O-1,{code},LATTE,coffee,1,4.50,0001-01-01T00:00+01:00",  # 14: no UTC equivalent
        f"O-2,{code},LATTE,coffee,1,4.50,1999-12-31T23:59",  # 15: before 2000
        f"G-1,{code},{'S' * 64},{'c' * 64},1,4.50,",  # 16: good, at the limits
    )

    assert await run(database, program, path) == 1

    assert await balance(uow, member) == before + 4 + 5
    reasons = [(r["line"], r["reason"]) for r in errors_of(tmp_path / "sales.errors.csv")]
    assert reasons == [
        ("2", "sku contains a NUL character"),
        ("3", "category contains a NUL character"),
        ("4", "receipt_id contains a NUL character"),
        ("5", "member contains a NUL character"),
        ("6", "quantity contains a NUL character"),
        ("7", "occurred_at contains a NUL character"),
        ("8", f'member "{2**63}" is not a Telegram id from 1 to {2**63 - 1:,}'),
        ("9", f'member "{"9" * 5000}" is not a Telegram id from 1 to {2**63 - 1:,}'),
        ("10", f'quantity "{"9" * 5000}" is not a whole number from 1 to 100,000'),
        ("11", "sku is longer than 64 characters"),
        ("12", "category is longer than 64 characters"),
        ("13", "receipt_id is longer than 120 characters"),
        (
            "14",
            'occurred_at "0001-01-01T00:00+01:00" is not a time from 2000-01-01 on with a '
            "UTC equivalent",
        ),
        (
            "15",
            'occurred_at "1999-12-31T23:59" is not a time from 2000-01-01 on with a UTC equivalent',
        ),
    ]
    async with uow:
        assert await uow.purchases.get("main", "G-1") is not None
        assert await uow.purchases.get("main", "N-1") is None
    assert await check_invariants(database) == []


async def test_a_clean_rerun_leaves_no_stale_error_file(uow, program, database, tmp_path):
    member = await new_member(uow, program, 1)
    path = write(tmp_path, "sales.csv", f"R-1,{member.code},X,misc,0,10,")
    assert await run(database, program, path) == 1
    assert (tmp_path / "sales.errors.csv").exists()

    write(tmp_path, "sales.csv", f"R-1,{member.code},X,misc,1,10,")
    assert await run(database, program, path) == 0
    assert not (tmp_path / "sales.errors.csv").exists()

    precious = tmp_path / "notes.csv"
    precious.write_text("not,an,error,file\n")
    assert await run(database, program, path, error_file=precious) == 0
    assert precious.exists()  # only a file with the error header is taken for a stale one


async def test_rows_without_receipt_id_or_with_missing_fields(uow, program, database, tmp_path):
    member = await new_member(uow, program, 1)
    path = write(
        tmp_path,
        "sales",
        f",{member.code},X,misc,1,10,",
        f"R-1,{member.code},X,misc,1",
        "R-2,K7M,X,,1,10,",
    )
    chosen = tmp_path / "out" / "problems.csv"
    chosen.parent.mkdir()

    assert await run(database, program, path, error_file=chosen) == 1

    assert [(r["line"], r["reason"]) for r in errors_of(chosen)] == [
        ("2", "receipt_id is empty"),
        ("3", "expected 7 fields, found 5"),
        (
            "4",
            'member "K7M" is not a member code, a phone starting with + or a Telegram id; '
            "category is empty",
        ),
    ]
    assert not (tmp_path / "sales.errors.csv").exists()


async def test_columns_in_another_order(uow, program, database, tmp_path):
    member = await new_member(uow, program, 1)
    path = write(
        tmp_path,
        "sales.csv",
        f"1,10,misc,X,{member.code},R-1,",
        header="quantity,unit_price,category,sku,member,receipt_id,occurred_at",
    )
    assert await run(database, program, path) == 0
    assert await balance(uow, member) == 50 + 15


async def test_wrong_header_exits_2_naming_the_missing_columns(
    uow, program, database, tmp_path, capsys
):
    member = await new_member(uow, program, 1)
    path = write(
        tmp_path,
        "sales.csv",
        f"R-1,{member.code},X,misc,1,10",
        header="receipt_id,member,sku,category,qty,unit_price",
    )

    assert await run(database, program, path) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "wrong header: missing columns quantity, occurred_at; unknown column qty;" in err
    assert await balance(uow, member) == 50
    assert await run(database, program, tmp_path / "missing.csv") == 2
    assert "missing.csv: No such file or directory" in capsys.readouterr().err
    assert await check_invariants(database) == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_progress_only_on_a_terminal(uow, program, database, tmp_path, capsys):
    member = await new_member(uow, program, 1)
    path = write(
        tmp_path, "sales.csv", f"R-1,{member.code},X,misc,1,10,", f"R-2,{member.code},X,misc,1,10,"
    )
    terminal = Terminal()
    assert await run(database, program, path, err=terminal) == 0
    assert terminal.getvalue().endswith("\r[" + "#" * 30 + "] 2/2 receipts\n")
    assert await run(database, program, path) == 0
    assert capsys.readouterr().err == ""


async def test_a_phone_nobody_shared_yet_is_held_not_failed(
    uow, program, database, tmp_path, capsys
):
    await new_member(uow, program, 1)
    path = write(tmp_path, "sales.csv", "H-1,+15559999999,X,misc,1,10,")

    assert await run(database, program, path) == 0
    assert "1 receipt held until a member shares that phone number" in capsys.readouterr().out
    assert await run(database, program, path) == 0
    out = capsys.readouterr().out
    assert "0 receipts imported" in out
    assert "1 receipt already imported" in out
    assert not (tmp_path / "sales.errors.csv").exists()
    assert await check_invariants(database) == []


async def purchases_of(uow, member) -> int:
    async with uow.database.reader.connect() as conn:
        return (
            await conn.execute(
                select(func.count())
                .select_from(PurchaseRow)
                .where(PurchaseRow.c.member_id == member.id)
            )
        ).scalar_one()


async def test_a_refused_receipt_leaves_the_others_of_its_transaction_recorded_once(
    uow, program, database, tmp_path, capsys
):
    member = await new_member(uow, program, 1)
    code = member.code
    path = write(
        tmp_path,
        "sales.csv",
        f"C-1,{code},X,misc,1,10,",
        "C-2,KKKK-KKKK,X,misc,1,10,",  # nobody: refused, writes nothing
        f"C-3,{code},X,misc,1,20,",
        f"C-4,{code},X,misc,1,10,2026-04-01T00:00",  # after NOW: refused
        "C-5,+15559999999,X,misc,1,10,",  # held for the phone
        f"C-6,{code},X,misc,1,30,",
    )

    assert await run(database, program, path) == 1

    assert await balance(uow, member) == 50 + 15 + 25 + 35
    assert await purchases_of(uow, member) == 3
    assert [(r["receipt_id"], r["reason"]) for r in errors_of(tmp_path / "sales.errors.csv")] == [
        ("C-2", "no member KKKK-KKKK"),
        ("C-4", "occurred_at is in the future"),
    ]
    assert "3 receipts imported, 75 points awarded" in capsys.readouterr().out

    assert await run(database, program, path) == 1
    assert await balance(uow, member) == 50 + 15 + 25 + 35
    assert await purchases_of(uow, member) == 3
    assert "4 receipts already imported" in capsys.readouterr().out
    assert await check_invariants(database) == []


async def test_a_receipt_recorded_meanwhile_sends_its_chunk_one_by_one(
    uow, program, database, tmp_path, monkeypatch, capsys
):
    member = await new_member(uow, program, 1)
    code = member.code
    path = write(
        tmp_path,
        "sales.csv",
        f"R-1,{code},X,misc,1,10,",
        f"R-2,{code},X,misc,1,20,",
        f"R-3,{code},X,misc,1,30,",
    )
    await buy(uow, program, member, "R-2", line("X", "misc", 1, "20"))

    async def read_before_r2_was_recorded(database, merchant, chunk, summary):
        return chunk

    monkeypatch.setattr(importer, "_unseen", read_before_r2_was_recorded)
    assert await run(database, program, path) == 0

    assert await balance(uow, member) == 50 + 15 + 25 + 35  # R-2 once, R-1 not twice
    assert await purchases_of(uow, member) == 3
    out = capsys.readouterr().out
    assert "2 receipts imported, 50 points awarded" in out
    assert "1 receipt already imported" in out
    assert await check_invariants(database) == []


async def test_many_chunks_on_several_workers_record_each_receipt_once(
    uow, program, database, tmp_path, monkeypatch, capsys
):
    members = [await new_member(uow, program, n) for n in (1, 2, 3)]
    rows = [f"W-{n},{members[n % 3].code},X,misc,1,10," for n in range(11)]
    path = write(tmp_path, "sales.csv", *rows)
    monkeypatch.setattr(importer, "CHUNK", 2)

    assert await run(database, program, path, tasks=3) == 0
    assert await run(database, program, path, tasks=3) == 0

    assert [await balance(uow, m) for m in members] == [50 + 4 * 15, 50 + 4 * 15, 50 + 3 * 15]
    assert [await purchases_of(uow, m) for m in members] == [4, 4, 3]
    out = capsys.readouterr().out
    assert "11 receipts imported, 165 points awarded" in out
    assert "11 receipts already imported" in out
    assert await check_invariants(database) == []


async def test_each_run_is_in_the_audit_log(uow, program, database, tmp_path):
    by_code, _, _ = await three_members(uow, program)
    assert by_code.code is not None
    path = write(tmp_path, "sales.csv", *good_rows(by_code.code), "R-9,NOBODY,X,misc,1,5,")
    assert await run(database, program, path) == 1
    [entry] = [e for e in await audit_log(uow) if e.action == "import"]
    assert entry.actor == "cli"
    assert entry.at == NOW
    assert entry.details == {
        "file": str(path),
        "rows": 6,
        "receipts": 4,
        "imported": 3,
        "points": entry.details["points"],
        "held": 0,
        "already_recorded": 0,
        "failed_rows": 1,
    }
    assert entry.details["points"] > 0
