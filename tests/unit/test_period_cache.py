"""The dashboard's period cache: a result is computed once for every view waiting on it,
kept FRESH seconds, then shown stale while one fresh computation runs in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta

from bot.web.period_cache import PeriodCache

START = datetime(2026, 12, 1, tzinfo=UTC)


class Source:
    """Computations the test releases one at a time; each answers its key and a count."""

    def __init__(self) -> None:
        self.calls: list[Hashable] = []
        self.release = asyncio.Event()
        self.fail = False

    async def compute(self, key: Hashable) -> str:
        self.calls.append(key)
        await self.release.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        return f"{key}#{len(self.calls)}"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def test_views_waiting_for_a_period_share_one_computation() -> None:
    source, clock = Source(), Clock()
    cache = PeriodCache(source.compute, clock, fresh=300)
    views = [asyncio.create_task(cache.get("may")) for _ in range(3)]
    await asyncio.sleep(0)
    source.release.set()
    results = await asyncio.gather(*views)
    assert {r.value for r in results} == {"may#1"}
    assert results[0].at == START
    assert source.calls == ["may"]
    clock.now = START + timedelta(seconds=299)
    assert (await cache.get("may")).value == "may#1"
    assert source.calls == ["may"]


async def test_a_stale_result_is_shown_while_one_fresh_one_is_computed() -> None:
    source, clock = Source(), Clock()
    source.release.set()
    cache = PeriodCache(source.compute, clock, fresh=300)
    await cache.get("may")
    source.release.clear()
    clock.now = START + timedelta(seconds=300)
    assert (await cache.get("may")).value == "may#1"  # at once, not waiting
    assert (await cache.get("may")).value == "may#1"
    assert len(cache.running) == 1  # one refresh, not two
    await asyncio.sleep(0)
    assert source.calls == ["may", "may"]
    source.release.set()
    await asyncio.gather(*cache.running.values())
    fresh = await cache.get("may")
    assert fresh.value == "may#2"
    assert fresh.at == START + timedelta(seconds=300)


async def test_a_failed_refresh_keeps_the_last_result(caplog) -> None:
    source, clock = Source(), Clock()
    source.release.set()
    cache = PeriodCache(source.compute, clock, fresh=300)
    await cache.get("may")
    source.fail = True
    clock.now = START + timedelta(seconds=301)
    assert (await cache.get("may")).value == "may#1"
    await asyncio.gather(*cache.running.values(), return_exceptions=True)
    await asyncio.sleep(0)
    assert (await cache.get("may")).value == "may#1"
    assert "dashboard figures failed" in caplog.text


async def test_only_the_newest_periods_are_kept() -> None:
    source, clock = Source(), Clock()
    source.release.set()
    cache = PeriodCache(source.compute, clock, fresh=300, kept=2)
    for key in ("may", "june", "july"):
        await cache.get(key)
    assert list(cache.results) == ["june", "july"]
