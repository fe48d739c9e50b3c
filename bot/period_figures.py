"""A period's key figures against the period before, and its charts: what the dashboard's
metrics page and /stats in chat show, computed once and kept in the database.

A period's figures read every receipt of two periods and draw five charts: seconds on a
large program. So they are computed once per period (for every locale they may be read in)
and kept in `kept_figures` as JSON under a key naming the period and the locale. Every
process and every restart then shows them at once (`KeptFigures`, the store of
`bot.web.period_cache.PeriodCache`; `figures_for` in chat), and the scheduler's "dashboard
figures" job keeps the default period (the 30 days before today) computed ahead of anyone
asking.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, cast

from bot.charts import charts_of
from bot.web.period_cache import FRESH_SECONDS, Computed
from domain.metrics import Metrics
from domain.periods import local_today, named_period, previous
from domain.ports import UnitOfWork
from domain.program import Program
from domain.services.metrics import program_metrics
from domain.services.trends import weekly_trends

KEPT_DAYS = 7  # figures computed longer ago than this are dropped by the job
Period = tuple[date, date, str]  # since, until, the reader's locale
Readers = Callable[[], UnitOfWork]
Kind = Literal["count", "money", "percent"]
Figure = int | Decimal | None
# The key figures, in the order shown: template key, how it is written, where it is read.
FIGURES: tuple[tuple[str, Kind, Callable[[Metrics], Figure]], ...] = (
    ("members", "count", lambda m: m.members.total),
    ("new", "count", lambda m: m.members.new),
    ("active", "count", lambda m: m.members.active),
    ("purchases", "count", lambda m: m.purchases),
    ("revenue", "money", lambda m: m.revenue),
    ("average_order", "money", lambda m: m.average_order_value),
    ("repeat_rate", "percent", lambda m: m.repeat_purchase_rate),
    ("retention", "percent", lambda m: m.retention_rate),
    ("issued", "count", lambda m: m.points.issued_total),
    ("redeemed", "count", lambda m: m.points.redeemed),
)


@dataclass(frozen=True)
class KeyFigure:
    """One line of the screen: the figure now and before, and which way it went."""

    key: str
    kind: Kind
    now: Figure
    before: Figure
    trend: Literal["up", "down", "same"] | None  # None when either has no value


def key_figures(now: Metrics, before: Metrics) -> list[KeyFigure]:
    """Each key figure of a period beside the previous period's."""
    return [
        KeyFigure(key, kind, read(now), read(before), trend(read(now), read(before)))
        for key, kind, read in FIGURES
    ]


def trend(now: Figure, before: Figure) -> Literal["up", "down", "same"] | None:
    """Which way a figure went; None when either period has no value for it."""
    if now is None or before is None:
        return None
    return "up" if now > before else "down" if now < before else "same"


@dataclass(frozen=True)
class PeriodFigures:
    """What the metrics page shows of a period: its key figures and its charts (title, PNG
    in base64)."""

    figures: list[KeyFigure]
    charts: list[tuple[str, str]]

    def to_json(self) -> str:
        """The figures as kept: numbers as JSON numbers, amounts as decimal strings."""
        return json.dumps(
            {
                "figures": [
                    [f.key, f.kind, _written(f.now), _written(f.before), f.trend]
                    for f in self.figures
                ],
                "charts": self.charts,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PeriodFigures:
        """The figures `to_json` wrote."""
        kept = json.loads(text)
        return cls(
            [
                KeyFigure(key, kind, _read(now), _read(before), trend)
                for key, kind, now, before, trend in kept["figures"]
            ],
            [(title, png) for title, png in kept["charts"]],
        )


def _written(figure: Figure) -> int | str | None:
    return str(figure) if isinstance(figure, Decimal) else figure


def _read(kept: int | str | None) -> Figure:
    return Decimal(kept) if isinstance(kept, str) else kept


def period_key(period: Period) -> str:
    """The key a period's figures are kept under: `dashboard/<since>/<until>/<locale>`."""
    since, until, locale = period
    return f"dashboard/{since.isoformat()}/{until.isoformat()}/{locale}"


async def compute_figures(
    reader: Readers, program: Program, since: date, until: date, locales: Iterable[str]
) -> dict[str, PeriodFigures]:
    """The figures of [since, until) against the period before, with charts in each locale:
    three reads on three connections at once, then the drawing."""
    before_start, _ = previous(since, until)
    now, before, weeks = await asyncio.gather(
        program_metrics(reader(), program, since, until),
        program_metrics(reader(), program, before_start, since),
        weekly_trends(reader(), program, since, until),
    )
    figures = key_figures(now, before)
    drawn = {}
    for locale in locales:
        charts = await charts_of(program, weeks, now, locale)
        drawn[locale] = PeriodFigures(
            figures, [(c.title, base64.b64encode(c.png).decode()) for c in charts]
        )
    return drawn


async def figures_for(
    reader: Readers, writer: Readers, program: Program, period: Period, now: datetime
) -> PeriodFigures:
    """The period's figures as kept when computed less than FRESH_SECONDS before `now`;
    otherwise computed now and kept."""
    store = KeptFigures(reader, writer, program)
    kept = await store.load(period)
    if kept is not None and (now - kept.at).total_seconds() < FRESH_SECONDS:
        return kept.value
    computed = Computed(await store.compute(period), now)
    await store.save(period, computed)
    return computed.value


class KeptFigures:
    """Periods' figures computed on demand and kept in the database (a PeriodCache store)."""

    def __init__(self, reader: Readers, writer: Readers, program: Program) -> None:
        self.reader, self.writer, self.program = reader, writer, program

    async def compute(self, key: Hashable) -> PeriodFigures:
        """The figures of one period in one locale."""
        since, until, locale = cast(Period, key)
        return (await compute_figures(self.reader, self.program, since, until, [locale]))[locale]

    async def load(self, key: Hashable) -> Computed[PeriodFigures] | None:
        """The figures kept for the period, if any."""
        async with self.reader() as uow:
            kept = await uow.metrics.kept(period_key(cast(Period, key)))
        return None if kept is None else Computed(PeriodFigures.from_json(kept[1]), kept[0])

    async def save(self, key: Hashable, result: Computed[PeriodFigures]) -> None:
        """Keep the figures unless newer ones were kept meanwhile."""
        async with self.writer() as uow:
            await uow.metrics.keep(period_key(cast(Period, key)), result.at, result.value.to_json())


async def keep_default_period(
    reader: Readers, writer: Readers, program: Program, now: datetime
) -> int:
    """The scheduler's job: compute the default period (the 30 days before today in the
    program's time zone) in every locale of the program and keep it; drop figures computed
    more than KEPT_DAYS ago. Returns how many were dropped."""
    since, until = named_period(None, None, local_today(now, program.info.timezone))
    drawn = await compute_figures(reader, program, since, until, program.info.locales)
    async with writer() as uow:  # every locale kept, and the old dropped, in one transaction
        for locale, figures in drawn.items():
            await uow.metrics.keep(period_key((since, until, locale)), now, figures.to_json())
        return await uow.metrics.forget_kept(now - timedelta(days=KEPT_DAYS))
