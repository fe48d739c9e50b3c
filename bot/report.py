"""`loyalty-bot report [--since DATE] [--until DATE] [--format table|json|csv] [--charts DIR]`.

The program metrics of a period (docs/metrics.md): as JSON exactly as `domain.metrics`
defines them, as CSV one row per figure, or as a table beside the previous period of the
same length with the change. The default period is the 30 days before today.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from bot.app import open_database, program_of
from bot.report_charts import write_charts
from bot.settings import Settings
from domain.metrics import CENT, as_json
from domain.periods import BadPeriod, local_today, named_period
from domain.periods import previous as previous_period
from domain.program import Program
from domain.services.metrics import program_metrics
from messages.render import render_text
from storage.uow import SqlUnitOfWork

OPTIONS = ("--since", "--until")  # how BadPeriod names the dates
FORMATS = ("table", "json", "csv")
HEADER = ("since", "until", "currency")  # the period's names, not figures


@dataclass(frozen=True)
class Row:
    """One figure of the table: this period, the previous one, and the change."""

    name: str
    current: object
    previous: object
    change: str


def flatten(figures: dict[str, object], prefix: str = "") -> Iterator[tuple[str, object]]:
    """Each figure as (dotted name, value): `members.by_tier.Gold`, `revenue`."""
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten(value, f"{name}.")
        elif name not in HEADER:
            yield name, value


def change(current: object, previous: object) -> str:
    """current - previous, signed ("+3", "-1.50"); empty when either is missing."""
    if current is None or previous is None:
        return ""
    difference = Decimal(str(current)) - Decimal(str(previous))
    return f"{difference:+}" if difference else "0"


def cents(value: object) -> object:
    """A rate (a JSON float) as a Decimal to the cent, for the table; anything else as is."""
    return Decimal(str(value)).quantize(CENT) if isinstance(value, float) else value


def table_rows(current: dict[str, object], previous: dict[str, object]) -> list[Row]:
    """Every figure of either period, in the order of the current one."""
    now = {name: cents(value) for name, value in flatten(current)}
    before = {name: cents(value) for name, value in flatten(previous)}
    names = list(now) + [name for name in before if name not in now]
    return [
        Row(name, now.get(name), before.get(name), change(now.get(name, 0), before.get(name, 0)))
        for name in names
    ]


def as_csv(figures: dict[str, object]) -> str:
    """One `figure,value` row per figure; an empty value for none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["figure", "value"])
    for name, value in flatten(figures):
        writer.writerow([name, "" if value is None else value])
    return out.getvalue().rstrip("\n")


async def report_command(
    settings: Settings, since: str | None, until: str | None, output: str, charts: str | None = None
) -> int:
    """Print the period's figures in `output` format, and write its charts into the folder
    `charts` when given; bad dates or charts that cannot be written exit 2 with one line."""
    program = program_of(settings)
    today = local_today(datetime.now(UTC), program.info.timezone)
    try:
        start, end = named_period(since, until, today, names=OPTIONS)
    except BadPeriod as error:
        print(render_text("bad_argument", error=error), file=sys.stderr)
        return 2
    refused = await write_charts(settings, program, start, end, Path(charts)) if charts else None
    if refused is not None:
        print(render_text("bad_argument", error=refused), file=sys.stderr)
        return 2
    current, previous = await measure(settings, program, start, end, output == "table")
    if output == "json":
        print(json.dumps(current, indent=2))
    elif output == "csv":
        print(as_csv(current))
    else:
        assert previous is not None
        print(
            render_text(
                "report_table",
                current=current,
                previous=previous,
                rows=table_rows(current, previous),
            )
        )
    return 0


async def measure(
    settings: Settings, program: Program, start: date, end: date, with_previous: bool
) -> tuple[dict[str, object], dict[str, object] | None]:
    """The period's figures as JSON values, and the previous period's when asked."""
    database = await open_database(settings)
    try:
        reader = SqlUnitOfWork(database, read_only=True)
        current = as_json(await program_metrics(reader, program, start, end))
        if not with_previous:
            return current, None
        return current, as_json(
            await program_metrics(reader, program, *previous_period(start, end))
        )
    finally:
        await database.dispose()
