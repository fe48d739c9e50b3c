"""The weekly trends of a period, read in one read-only unit of work."""

from __future__ import annotations

from datetime import date

from domain.ports import UnitOfWork
from domain.program import Program
from domain.trends import Week, week, week_windows


async def weekly_trends(uow: UnitOfWork, program: Program, since: date, until: date) -> list[Week]:
    """The figures of each week of [since, until), dates in the program's time zone.

    `uow` should be read-only: this reads and writes nothing. InvalidRequest when the period
    is empty, reversed or longer than the charts cover (domain.trends.MAX_WEEKS).
    """
    windows = week_windows(program, since, until)
    async with uow:
        facts = await uow.trends.weekly(windows)
    return [week(window, fact) for window, fact in zip(windows, facts, strict=True)]
