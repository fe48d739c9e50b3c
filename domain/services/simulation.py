"""Simulating a program change: every receipt of a period replayed under both programs.

One read-only transaction reads the receipts a page at a time (the database's index order:
member, then time) and the ledger's totals; nothing is written, whatever happens.
"""

from __future__ import annotations

from datetime import datetime

from domain.ports import UnitOfWork
from domain.program import Program
from domain.simulation import Comparison, Simulation

PAGE = 2000  # receipts read per query


async def simulate(uow: UnitOfWork, current: Program, new: Program, since: datetime,
                   until: datetime, page: int = PAGE) -> Comparison:
    """What `new` would have given in `[since, until)` beside what `current` gives.

    `uow` must be read-only (`SqlUnitOfWork(database, read_only=True)`).
    """
    simulation = Simulation(current, new, since, until)
    async with uow:
        await uow.replay.read_only()
        after = None
        while True:
            chunk = await uow.replay.receipts(simulation.warm_up_start, until, after, page)
            simulation.feed(chunk.receipts)
            if chunk.after is None:
                break
            after = chunk.after
        facts = await uow.replay.facts(since, until)
        members = await uow.replay.member_count()
    return simulation.compare(facts, members)
