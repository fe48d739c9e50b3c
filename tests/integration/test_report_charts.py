"""`loyalty-bot report --charts DIR`: the period's PNG charts, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.charts import DPI, HEIGHT_IN, WIDTH_IN
from bot.cli import main
from tests.png import coloured_share, png_size

PERIOD = ["--since", "2026-02-01", "--until", "2026-03-01"]
FILES = ["members.png", "points.png", "revenue.png", "surveys.png", "tiers.png"]


def test_charts_are_written_beside_the_report(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "charts" / "february"  # created with its parents
    capsys.readouterr()
    assert main(["report", *PERIOD, "--format", "json", "--charts", str(folder)]) == 0
    assert json.loads(capsys.readouterr().out)["revenue"] == "135.00"  # the report as usual
    assert sorted(path.name for path in folder.iterdir()) == FILES
    for name in FILES:
        data = (folder / name).read_bytes()
        assert png_size(data) == (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
        if name != "surveys.png":  # no survey answers in this data: no bar to draw
            assert coloured_share(data) > 0.001, name  # something drawn, not empty axes


def test_charts_that_cannot_be_made_exit_2_in_one_line(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    capsys.readouterr()
    for arguments, reason in (
        ([*PERIOD, "--charts", str(blocker)], "--charts: cannot write into"),
        (
            ["--since", "2000-01-01", "--until", "2026-01-01", "--charts", str(tmp_path / "out")],
            "--charts: charts cover at most 260 weeks",
        ),
    ):
        assert main(["report", *arguments]) == 2
        out, err = capsys.readouterr()
        assert out == ""  # nothing printed: the report is not half given
        assert err.startswith(f"loyalty-bot: {reason}"), err
        assert err.count("\n") == 1
    assert blocker.read_text() == "not a folder"
    assert not (tmp_path / "out").exists()
