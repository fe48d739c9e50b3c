"""`loyalty-bot report --charts DIR`: the period's charts written as PNG files.

The files are `members.png`, `points.png`, `tiers.png`, `revenue.png` and `surveys.png`
(bot/charts.py), in the program's first locale; DIR is created when missing and same-named
files replaced.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from bot.app import open_database
from bot.charts import Chart, period_charts
from bot.settings import Settings
from domain.errors import InvalidRequest
from domain.program import Program
from domain.services.metrics import program_metrics
from storage.uow import SqlUnitOfWork


async def write_charts(
    settings: Settings, program: Program, since: date, until: date, folder: Path
) -> str | None:
    """Draw the charts of [since, until) into `folder`; the reason in one line when they
    cannot be (a period too long, a folder that cannot be written), None when written."""
    database = await open_database(settings)
    try:
        figures = await program_metrics(
            SqlUnitOfWork(database, read_only=True), program, since, until
        )
        charts = await period_charts(
            SqlUnitOfWork(database, read_only=True),
            program,
            since,
            until,
            figures,
            program.info.locales[0],
        )
    except InvalidRequest as error:
        return f"--charts: {error}"
    finally:
        await database.dispose()
    return await asyncio.to_thread(save, charts, folder)


def save(charts: list[Chart], folder: Path) -> str | None:
    """Write each chart as `<name>.png` into `folder`; the reason in one line when it cannot."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for chart in charts:
            (folder / f"{chart.name}.png").write_bytes(chart.png)
    except OSError as error:
        return f"--charts: cannot write into {str(folder)!r}: {error.strerror or error}"
    return None
