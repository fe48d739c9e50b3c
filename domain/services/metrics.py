"""The program metrics of a period, read in one read-only unit of work."""

from __future__ import annotations

from datetime import date

from domain.errors import InvalidRequest
from domain.metrics import Metrics, metrics, window
from domain.ports import UnitOfWork
from domain.program import Program
from domain.surveys import satisfaction_of


async def program_metrics(uow: UnitOfWork, program: Program, since: date, until: date) -> Metrics:
    """Every figure of [since, until), dates in the program's time zone (docs/metrics.md).

    `uow` should be read-only: this reads and writes nothing. InvalidRequest when the
    period is empty or reversed.
    """
    if until <= since:
        raise InvalidRequest(f"the period must end after it starts: {since} to {until}")
    period = window(program, since, until)
    async with uow:
        facts = await uow.metrics.facts(period)
        answers = await uow.surveys.counts(period.since, period.until)
    return metrics(program, since, until, facts, satisfaction_of(answers))
