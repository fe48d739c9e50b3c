"""`program check --at`: the worked receipt at a moment, with the promotions running then,
and the notes (overlaps, promotions over) as of then. Program time: America/New_York."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from domain.program_file import default_program_path

PROMOTIONS = """
[[promotions]]
id = "happy-hour"
title = "Happy hour"
starts = 2026-12-01
ends = 2026-12-31
weekdays = ["fri", "sat"]
hours = ["16:00", "18:00"]
categories = ["coffee"]
multiplier = 2
bonus = 10

[[promotions]]
id = "shoe-week"
title = "Shoe week"
starts = 2026-12-01
ends = 2026-12-07
categories = ["shoes"]
multiplier = 3

[[promotions]]
id = "prime"
title = "Prime only"
starts = 2026-12-01
ends = 2026-12-31
tiers = ["Prime"]
bonus = 50
"""
# The bundled sample: shoes 1 x 100.00 (x2: 200), other 2 x 4.50 (9) and BEANS-1KG 1 x
# 18.00 (18 + 20 item points), 5 a visit: 252 points, 127 tier credits.
SAMPLE = (
    "  1 x SAMPLE-SHOES (shoes) at $100.00\n"
    "  2 x SAMPLE (other) at $4.50\n"
    "  1 x BEANS-1KG (other) at $18.00\n"
)


@pytest.fixture
def program_file(tmp_path: Path) -> Path:
    path = tmp_path / "program.toml"
    path.write_text(default_program_path().read_text(encoding="utf-8") + PROMOTIONS, "utf-8")
    return path


def worked(out: str) -> str:
    return out[out.index("Worked example") : out.index("Promotions (program time)")]


def test_the_receipt_of_a_friday_happy_hour(program_file: Path, capsys) -> None:
    assert main(["program", "check", str(program_file), "--at", "2026-12-04T16:30"]) == 0
    # a coffee line joins the sample for the happy hour; shoes x3 beats their x2 category:
    # shoes 200 spend points + 400 extra, coffee 100 + 100 extra + 10 bonus
    assert worked(capsys.readouterr().out) == (
        "Worked example at 2026-12-04 16:30 (program time, fri): a member in tier Member buys\n"
        + SAMPLE
        + "  1 x SAMPLE-COFFEE (coffee) at $100.00\n"
        "  spend     shoes               200\n"
        "  spend     other                27\n"
        "  spend     coffee              100\n"
        "  item      BEANS-1KG            20\n"
        "  visit                           5\n"
        "  promotion happy-hour          110\n"
        "  promotion shoe-week           400\n"
        "  promotions running then: happy-hour, shoe-week, prime (tiers Prime)\n"
        "  x1.0 tier multiplier, rounded floor\n"
        "  = 862 points and 227 tier credits\n\n"
    )


def test_an_offset_moment_outside_the_hours(program_file: Path, capsys) -> None:
    # 23:30 UTC is 18:30 in New York: the happy hour is over, shoe week runs
    assert main(["program", "check", str(program_file), "--at", "2026-12-04T23:30+00:00"]) == 0
    out = capsys.readouterr().out
    assert worked(out) == (
        "Worked example at 2026-12-04 18:30 (program time, fri): a member in tier Member buys\n"
        + SAMPLE
        + "  spend     shoes               200\n"
        "  spend     other                27\n"
        "  item      BEANS-1KG            20\n"
        "  visit                           5\n"
        "  promotion shoe-week           400\n"
        "  promotions running then: shoe-week, prime (tiers Prime)\n"
        "  x1.0 tier multiplier, rounded floor\n"
        "  = 652 points and 127 tier credits\n\n"
    )
    assert (
        'promotions[0] "happy-hour" and promotions[1] "shoe-week" overlap from 2026-12-05 16:00'
        in out
    )


def test_the_notes_are_as_of_the_moment(program_file: Path, capsys) -> None:
    assert main(["program", "check", str(program_file), "--at", "2027-01-02"]) == 0
    out = capsys.readouterr().out
    assert "promotions running then: none\n" in out
    assert "  = 252 points and 127 tier credits\n" in out
    assert 'promotions[0] "happy-hour" is over since 2027-01-01 00:00' in out
    assert "overlap" not in out


def test_a_moment_that_is_not_one(program_file: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["program", "check", str(program_file), "--at", "next friday"])
    assert exit_.value.code == 2
    assert "argument --at: invalid" in capsys.readouterr().err


def test_dates_out_of_order_are_refused(tmp_path: Path, capsys) -> None:
    path = tmp_path / "program.toml"
    backwards = PROMOTIONS.replace("ends = 2026-12-07", "ends = 2026-11-30")
    path.write_text(default_program_path().read_text(encoding="utf-8") + backwards, "utf-8")
    assert main(["program", "check", str(path), "--at", "2026-12-04T16:30"]) == 1
    assert "promotions[1].ends: must be after starts" in capsys.readouterr().err
