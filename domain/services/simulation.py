"""Simulating a program change: every receipt of a period replayed under both programs.

One read-only transaction reads the ledger's totals and, a page at a time in the database's
index order (member, then time), the receipts. Members are independent, so a `Replayer` may
replay ranges of them elsewhere (other processes, each in its own read-only transaction on
the shared snapshot) and the tallies are added up, while this transaction reads the ledger's
totals. Nothing is written, whatever happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from domain.ports import UnitOfWork
from domain.program import Program
from domain.simulation import Comparison, MemberRange, Simulation, Tally, compare, member_ranges

PAGE = 2000  # receipts read per query

# Replays the ranges (each in a read-only transaction joined to the snapshot when not None)
Replayer = Callable[[Sequence[MemberRange], str | None], Coroutine[Any, Any, Sequence[Tally]]]


async def simulate(
    uow: UnitOfWork,
    current: Program,
    new: Program,
    since: datetime,
    until: datetime,
    page: int = PAGE,
    replayer: Replayer | None = None,
    parts: int = 1,
) -> Comparison:
    """What `new` would have given in `[since, until)` beside what `current` gives.

    `uow` must read one snapshot (`SqlUnitOfWork(database, read_only=True, snapshot=True)`).
    With a `replayer` the members are cut into `parts` ranges replayed by it; otherwise all
    are replayed here.
    """
    async with uow:
        await uow.replay.read_only()
        span = await uow.replay.member_span()
        if replayer is None or parts < 2 or span is None:
            tally = await _replay(uow, current, new, since, until, None, page)
            facts = await uow.replay.facts(since, until)
        else:
            snapshot = await uow.replay.share_snapshot()
            async with asyncio.TaskGroup() as group:  # the ledger's totals read meanwhile
                replayed = group.create_task(replayer(member_ranges(span, parts), snapshot))
                totals = group.create_task(uow.replay.facts(since, until))
            tally, facts = sum(replayed.result(), Tally()), totals.result()
        members = await uow.replay.member_count()
    return compare(current, new, since, until, tally, facts, members)


async def replay_members(
    uow: UnitOfWork,
    current: Program,
    new: Program,
    since: datetime,
    until: datetime,
    members: MemberRange,
    snapshot: str | None,
    page: int = PAGE,
) -> Tally:
    """The tally of the members in `members`, read in a read-only transaction of its own
    (on `snapshot` when given); what a `Replayer` runs for each range."""
    async with uow:
        await uow.replay.read_only(snapshot)
        return await _replay(uow, current, new, since, until, members, page)


async def _replay(
    uow: UnitOfWork,
    current: Program,
    new: Program,
    since: datetime,
    until: datetime,
    members: MemberRange | None,
    page: int,
) -> Tally:
    """Feed the receipts of `members` (None: everyone) page by page, in the open `uow`."""
    simulation = Simulation(current, new, since, until)
    after = None
    while True:
        chunk = await uow.replay.receipts(simulation.warm_up_start, until, after, page, members)
        simulation.feed(chunk.receipts)
        if chunk.after is None:
            return simulation.tally()
        after = chunk.after
