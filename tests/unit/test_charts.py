"""Charts: valid PNGs of the expected size, and matplotlib loaded only to draw one."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.charts import DPI, HEIGHT_IN, WIDTH_IN, draw_charts
from domain.surveys import Satisfaction, Score
from domain.trends import Week
from tests.png import png_size

NAMES = ["members", "points", "tiers", "revenue", "surveys"]
# CSAT 82.5% of 40 answers, CES 70% of 10, NPS -12.5 of 16: a negative bar is drawn too
SCORES = Satisfaction(Score(82.5, 40), Score(70.0, 10), Score(-12.5, 16))
PIXELS = (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))


def weeks(count: int) -> list[Week]:
    start = date(2026, 2, 2)
    return [
        Week(
            start=start + timedelta(weeks=i),
            end=start + timedelta(weeks=i + 1),
            members=100 + 5 * i,
            active=40 + i,
            issued=900 + 10 * i,
            redeemed=300,
            expired=20 * i,
            donated=50,
            revenue=Decimal("1234.50") + i,
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_chart_is_a_png_of_the_set_size(locale: str) -> None:
    charts = draw_charts(weeks(5), {"Member": 80, "Insider": 15, "Prime": 5}, SCORES, "EUR", locale)
    assert [chart.name for chart in charts] == NAMES
    if locale == "es":
        assert [chart.title for chart in charts] == [
            "Socios al final de cada semana",
            "Puntos por semana",
            "Socios por nivel",
            "Ingresos netos por semana (EUR)",
            "Resultados de las encuestas",
        ]
    for chart in charts:
        assert png_size(chart.png) == PIXELS
        assert len(chart.png) > 10_000, chart.name  # axes, bars, lines and text were drawn


def test_a_period_without_activity_still_draws() -> None:
    quiet = [Week(date(2026, 2, 2), date(2026, 2, 4), 0, 0, 0, 0, 0, 0, Decimal("0.00"))]
    nothing = Satisfaction(Score(None, 0), Score(None, 0), Score(None, 0))
    charts = draw_charts(quiet, {}, nothing, "USD", "en")
    assert [png_size(chart.png) for chart in charts] == [PIXELS] * 5


def test_the_bot_starts_without_matplotlib() -> None:
    """What the bot, the API and the CLI load at start leaves matplotlib out (it is
    imported when a chart is drawn)."""
    probe = (
        "import sys, bot.app, bot.conversation.core, bot.api.app, bot.cli, bot.charts; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
