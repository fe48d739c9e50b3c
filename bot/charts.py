"""PNG charts of a period: members, points, tiers, revenue and survey scores (matplotlib).

matplotlib is imported inside `draw_charts` only, so a bot that never draws a chart never
loads it (tests/unit/test_charts.py checks the modules the bot loads at start). Figures are
drawn on the Agg canvas without pyplot (no global state: safe in a worker thread), with
the fonts matplotlib ships; titles and legends come from the `chart_texts` template of the
reader's locale, dates through the same formatting as the templates' `date` filter.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.conversation.texts import key_values
from domain.metrics import Metrics
from domain.ports import UnitOfWork
from domain.program import Program
from domain.services.trends import weekly_trends
from domain.surveys import Satisfaction
from domain.titles import localized
from domain.trends import Week
from messages.render import local_date

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 x 450 pixels: readable in a chat photo


@dataclass(frozen=True)
class Chart:
    """One chart: its name (the file is `<name>.png`), its title and the PNG."""

    name: str
    title: str  # as drawn on it, in the reader's locale: a photo's caption
    png: bytes


async def period_charts(
    uow: UnitOfWork, program: Program, since: date, until: date, figures: Metrics, locale: str
) -> list[Chart]:
    """The charts of [since, until): its weeks read in `uow` (read-only), drawn in a worker
    thread so the event loop goes on; `figures` are the period's metrics (members per tier,
    drawn in the program's tier order under their titles in `locale`, and survey scores).
    InvalidRequest for a period the charts cannot cover."""
    weeks = await weekly_trends(uow, program, since, until)
    return await charts_of(program, weeks, figures, locale)


async def charts_of(
    program: Program, weeks: Sequence[Week], figures: Metrics, locale: str
) -> list[Chart]:
    """The charts of weeks already read (a page reads them beside the figures), drawn in a
    worker thread."""
    counts = {**{tier.name: 0 for tier in program.tiers.levels}, **figures.members.by_tier}
    shown = {tier.name: localized(tier.name, tier.titles, locale) for tier in program.tiers.levels}
    tiers = {shown.get(name, name): count for name, count in counts.items()}
    return await asyncio.to_thread(
        draw_charts, weeks, tiers, figures.satisfaction, program.info.currency, locale
    )


def draw_charts(
    weeks: Sequence[Week],
    by_tier: Mapping[str, int],
    scores: Satisfaction,
    currency: str,
    locale: str,
) -> list[Chart]:
    """The five charts of a period: members and active members at each week's end, points
    issued / redeemed / expired / donated per week, members per tier at the end (in the
    order given), net revenue per week, and the survey scores."""
    texts = key_values("chart_texts", locale, currency=currency)
    days = [local_date(week.start, locale) for week in weeks]
    drawn = {
        "members": _members(weeks, days, texts),
        "points": _points(weeks, days, texts),
        "tiers": _tiers(by_tier, texts),
        "revenue": _revenue(weeks, days, texts),
        "surveys": _surveys(scores, texts),
    }
    return [Chart(name, texts[f"{name}_title"], _png(figure)) for name, figure in drawn.items()]


def _members(weeks: Sequence[Week], days: list[str], texts: dict[str, str]) -> Figure:
    """Two lines: members, and active members, at each week's end."""
    figure, axes = _figure(texts["members_title"])
    axes.plot(days, [week.members for week in weeks], marker="o", label=texts["members"])
    axes.plot(days, [week.active for week in weeks], marker="o", label=texts["active"])
    _whole(axes)
    _by_week(axes, texts)
    axes.legend(fontsize="small")
    return figure


def _points(weeks: Sequence[Week], days: list[str], texts: dict[str, str]) -> Figure:
    """Four bars a week: points issued, redeemed, expired and donated."""
    figure, axes = _figure(texts["points_title"])
    series = {
        "issued": [week.issued for week in weeks],
        "redeemed": [week.redeemed for week in weeks],
        "expired": [week.expired for week in weeks],
        "donated": [week.donated for week in weeks],
    }
    width = 0.8 / len(series)
    for offset, (key, values) in enumerate(series.items()):
        axes.bar([i + offset * width for i in range(len(weeks))], values, width, label=texts[key])
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(weeks))], days)
    _whole(axes)
    _by_week(axes, texts)
    axes.legend(fontsize="small")
    return figure


def _tiers(by_tier: Mapping[str, int], texts: dict[str, str]) -> Figure:
    """A bar per tier: its members at the period's end."""
    figure, axes = _figure(texts["tiers_title"])
    axes.bar(list(by_tier), list(by_tier.values()), color="tab:purple")
    _whole(axes)
    return figure


def _revenue(weeks: Sequence[Week], days: list[str], texts: dict[str, str]) -> Figure:
    """A bar a week: net revenue."""
    figure, axes = _figure(texts["revenue_title"])
    axes.bar(days, [float(week.revenue) for week in weeks], color="tab:green")
    _by_week(axes, texts)
    return figure


def _surveys(scores: Satisfaction, texts: dict[str, str]) -> Figure:
    """A bar per figure (CSAT and CES in %, NPS from -100 to 100), each labelled with its
    number of answers ("n = 40", which needs no plural); a figure without answers has no
    bar."""
    figure, axes = _figure(texts["surveys_title"])
    shown = {"csat": scores.csat, "ces": scores.ces, "nps": scores.nps}
    bars = axes.bar(
        [texts[key] for key in shown],
        [score.value or 0.0 for score in shown.values()],
        color="tab:orange",
    )
    axes.bar_label(
        bars,
        [texts["answers"].replace("#", str(score.answers)) for score in shown.values()],
        fontsize="small",
    )
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_ylim(-100, 110)
    return figure


def _whole(axes: Axes) -> None:
    """A y axis of counts: whole numbers only (no "0.25 members" on a small program)."""
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _by_week(axes: Axes, texts: dict[str, str]) -> None:
    """An x axis of weeks, labelled by their first day."""
    axes.set_xlabel(texts["week_axis"])
    axes.tick_params(axis="x", labelrotation=30)


def _figure(title: str) -> tuple[Figure, Axes]:
    """A new figure on the Agg canvas with one plot titled `title`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    return figure, axes


def _png(figure: Figure) -> bytes:
    """The figure as PNG bytes, its counts and amounts from 0 up (scores keep their range)."""
    axes = figure.axes[0]
    if axes.get_ylim()[0] > -100:
        axes.set_ylim(bottom=0)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
