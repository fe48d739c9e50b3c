"""`program check` shows the engagement tables and notes overlapping or finished ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.cli import main
from bot.program_report import program_summary
from domain.program_file import default_program_path, parse_program
from domain.program_notes import program_notes

DEFAULT = default_program_path().read_text(encoding="utf-8")
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
id = "saturday"
title = "Saturday"
starts = 2026-12-05
ends = 2026-12-05
bonus = 5

[[promotions]]
id = "january"
title = "January"
starts = 2026-01-01
ends = 2026-01-31T12:00:00
tiers = ["Prime"]
multiplier = 1.5

[[promotions]]
id = "sundays"
title = "Sundays"
starts = 2026-12-01
ends = 2026-12-05
weekdays = ["sun"]
bonus = 5

[[challenges]]
id = "spring"
title = "Spring"
kind = "purchases"
count = 2
starts = 2026-03-01
ends = 2026-05-31
bonus = 50

[[actions]]
id = "channel"
title = "Join our channel"
kind = "telegram_channel"
channel = "@northwind"
points = 50
"""
NOVEMBER = datetime(2026, 11, 20, tzinfo=UTC)


def test_notes_name_overlaps_and_what_is_over_or_never_runs() -> None:
    program = parse_program(DEFAULT + PROMOTIONS)
    assert program_notes(program, NOVEMBER) == [
        'promotions[2] "january" is over since 2026-01-31 12:00',
        'promotions[3] "sundays" never runs: its weekdays and hours fall outside its dates',
        'promotions[0] "happy-hour" and promotions[1] "saturday" overlap from 2026-12-05 16:00: '
        "the higher multiplier applies on a line both boost; bonuses add",
        'challenges[0] "spring" is over since 2026-06-01 00:00',
    ]
    # Saturday 5 December 17:00 in New York: the overlap under way is still noted
    assert program_notes(program, datetime(2026, 12, 5, 22, tzinfo=UTC))[2].endswith(
        "overlap from 2026-12-05 17:00: the higher multiplier applies on a line both boost; "
        "bonuses add"
    )
    # once the Saturday is over, they never overlap again
    later = program_notes(program, datetime(2026, 12, 6, 12, tzinfo=UTC))
    assert len(later) == 4
    assert not any("overlap" in note for note in later)
    assert program_notes(parse_program(DEFAULT), NOVEMBER) == []


def test_a_multiplier_on_categories_that_earn_nothing_is_noted() -> None:
    gift = PROMOTIONS.replace('categories = ["coffee"]', 'categories = ["gift-cards"]')
    notes = program_notes(parse_program(DEFAULT + gift), NOVEMBER)
    assert (
        'promotions[0] "happy-hour" multiplies only categories that earn nothing '
        "(gift-cards)" in notes
    )


def test_the_summary_lists_the_new_tables_after_the_worked_example() -> None:
    summary = program_summary(parse_program(DEFAULT + PROMOTIONS), "program.toml", NOVEMBER)
    assert (
        "  happy-hour   Happy hour               2026-12-01 to 2026-12-31, fri sat, "
        "16:00-18:00, categories coffee: spend points x2 and +10 points a receipt\n"
        "  saturday     Saturday                 2026-12-05 to 2026-12-05: "
        "+5 points a receipt\n"
        "  january      January                  2026-01-01 to 2026-01-31 12:00, tiers Prime: "
        "spend points x1.5\n"
    ) in summary
    assert (
        "  spring       Spring                   2 purchases, 2026-03-01 to 2026-05-31: "
        "+50 points\n"
    ) in summary
    assert (
        "  channel      Join our channel         join @northwind (checked with the bot: "
        "it must be an admin there): +50 points\n"
    ) in summary
    assert summary.index("Worked example") < summary.index("Promotions")
    assert summary.endswith(
        'bonuses add\n  challenges[0] "spring" is over since '
        "2026-06-01 00:00\n\nOK: program.toml is a valid program."
    )


def test_a_program_without_them_shows_the_defaults_only() -> None:
    summary = program_summary(parse_program(DEFAULT), "program.toml", NOVEMBER)
    assert summary.endswith(
        "= 252 points and 127 tier credits\n\n"
        "Leaderboard: the top 10 of the month by points\n"
        "Round-up donations: points kept in multiples of 10, the rest to the member's cause\n\n"
        "OK: program.toml is a valid program."
    )


def test_program_check_prints_it(tmp_path: Path, capsys) -> None:
    path = tmp_path / "program.toml"
    path.write_text(DEFAULT + PROMOTIONS, encoding="utf-8")
    assert main(["program", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Promotions (program time)" in out
    assert 'promotions[2] "january" is over since 2026-01-31 12:00' in out
