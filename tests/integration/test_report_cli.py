"""`loyalty-bot report`: its three formats, its default period and its bad dates."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.report import flatten
from domain.metrics import as_json
from domain.program_file import default_program_path, load_program
from domain.services.metrics import program_metrics
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.integration.test_cli import in_thread

PERIOD = ["--since", "2026-02-01", "--until", "2026-03-01"]


def test_json_is_exactly_the_metrics(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", *PERIOD, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    expected: dict[str, object] = {}

    async def measure() -> None:
        database = Database(seeded)
        try:
            figures = await program_metrics(
                SqlUnitOfWork(database, read_only=True),
                load_program(default_program_path()),
                date(2026, 2, 1),
                date(2026, 3, 1),
            )
            expected.update(as_json(figures))
        finally:
            await database.dispose()

    in_thread(measure())
    assert shown == expected
    assert shown["revenue"] == "135.00"  # as in test_metrics: 40 + (60 - 10) + 20 + 25


def test_csv_has_one_row_per_figure(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", *PERIOD, "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "figure,value"
    assert "revenue,135.00" in rows
    assert "members.by_tier.Insider,1" in rows
    assert "points.issued.purchase,100" in rows


def test_table_shows_the_previous_period_and_the_change(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["report", *PERIOD]) == 0
    out = capsys.readouterr().out
    # February has 28 days: the previous period is 2026-01-04 up to 2026-02-01
    assert "2026-02-01 up to (not including) 2026-03-01" in out
    assert "against 2026-01-04 up to 2026-02-01" in out
    # revenue then: R1 100 (Jan 10) + R5 50 (Jan 20) = 150.00; now 135.00: -15.00
    revenue = next(line for line in out.splitlines() if line.startswith("revenue "))
    assert revenue.split() == ["revenue", "135.00", "150.00", "-15.00"]
    purchases = next(line for line in out.splitlines() if line.startswith("purchases "))
    assert purchases.split() == ["purchases", "4", "2", "+2"]


def test_the_default_period_is_the_30_days_before_today(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/r.db")
    zone = ZoneInfo(load_program(default_program_path()).info.timezone)
    assert main(["report", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    today = datetime.now(UTC).astimezone(zone).date()
    assert shown["until"] == today.isoformat()
    assert shown["since"] == (today - timedelta(days=30)).isoformat()
    assert shown["purchases"] == 0
    assert shown["retention_rate"] is None


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (
            ["--since", "2026-13-01"],
            "--since: expected a date as YYYY-MM-DD from 2000-01-01 to 9998-12-31, "
            "got '2026-13-01'",
        ),
        (
            ["--until", "soon"],
            "--until: expected a date as YYYY-MM-DD from 2000-01-01 to 9998-12-31, got 'soon'",
        ),
        (
            ["--since", "0001-01-01"],  # before: a traceback from the program's time zone
            "--since: expected a date as YYYY-MM-DD from 2000-01-01 to 9998-12-31, "
            "got '0001-01-01'",
        ),
        (
            ["--since", "2026-03-01", "--until", "2026-03-01"],
            "--since: 2026-03-01 must be before --until (2026-03-01)",
        ),
    ],
)
def test_bad_dates_exit_2_with_one_line(
    arguments: list[str],
    reason: str,
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/r.db")
    assert main(["report", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"loyalty-bot: {reason}\n"


def test_flatten_names_nested_figures_with_dots() -> None:
    figures = {"since": "x", "a": 1, "b": {"c": None, "d": {"e": "2.00"}}}
    assert list(flatten(figures)) == [("a", 1), ("b.c", None), ("b.d.e", "2.00")]
