"""Figures kept per period (both databases): a newer computation is never replaced by an
older one finishing later, old ones are dropped, and the page's figures read back as
written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.period_figures import KeyFigure, PeriodFigures
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW

KEY = "dashboard/2026-01-31/2026-03-02/en"


async def kept(database, key: str = KEY):
    async with SqlUnitOfWork(database, read_only=True) as uow:
        return await uow.metrics.kept(key)


async def keep(database, at, body: str, key: str = KEY) -> None:
    async with SqlUnitOfWork(database) as uow:
        await uow.metrics.keep(key, at, body)


async def test_the_newest_computation_is_kept_whichever_finishes_last(database):
    assert await kept(database) is None
    await keep(database, NOW, "first")
    await keep(database, NOW + timedelta(minutes=5), "newer")
    await keep(database, NOW + timedelta(minutes=1), "older, finished late")
    assert await kept(database) == (NOW + timedelta(minutes=5), "newer")


async def test_figures_computed_long_ago_are_dropped(database):
    await keep(database, NOW - timedelta(days=8), "old", key="dashboard/old")
    await keep(database, NOW, "new")
    async with SqlUnitOfWork(database) as uow:
        assert await uow.metrics.forget_kept(NOW - timedelta(days=7)) == 1
    assert await kept(database, "dashboard/old") is None
    assert await kept(database) == (NOW, "new")


async def test_the_page_figures_read_back_as_written(database):
    figures = PeriodFigures(
        [
            KeyFigure("members", "count", 12, 10, "up"),
            KeyFigure("revenue", "money", Decimal("1234.5600"), Decimal("0"), "up"),
            KeyFigure("retention", "percent", None, Decimal("12.5"), None),
        ],
        [("Members", "iVBORw0KGgo=")],
    )
    await keep(database, NOW, figures.to_json())
    stored = await kept(database)
    assert stored is not None
    assert PeriodFigures.from_json(stored[1]) == figures
