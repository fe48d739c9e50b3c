"""The dashboard's period cache: a result is computed once for every view waiting on it,
kept FRESH seconds, then shown stale while one fresh computation runs in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta

from bot.web.period_cache import Computed, PeriodCache

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


class Kept:
    """A store in memory, as the database keeps results for every process."""

    def __init__(self) -> None:
        self.results: dict[Hashable, Computed[str]] = {}

    async def load(self, key: Hashable) -> Computed[str] | None:
        return self.results.get(key)

    async def save(self, key: Hashable, result: Computed[str]) -> None:
        self.results[key] = result


async def test_a_kept_result_is_shown_without_computing_and_computed_ones_are_kept() -> None:
    source, clock, store = Source(), Clock(), Kept()
    source.release.set()
    store.results["may"] = Computed("may#kept", START - timedelta(seconds=10))
    cache = PeriodCache(source.compute, clock, fresh=300, store=store)
    assert (await cache.get("may")).value == "may#kept"
    assert (await cache.get("june")).value == "june#1"
    assert source.calls == ["june"]
    assert store.results["june"] == Computed("june#1", START)


async def test_a_stale_result_gives_way_to_a_newer_one_kept_by_another_process() -> None:
    source, clock, store = Source(), Clock(), Kept()
    source.release.set()
    cache = PeriodCache(source.compute, clock, fresh=300, store=store)
    await cache.get("may")
    clock.now = START + timedelta(seconds=400)
    store.results["may"] = Computed("may#scheduler", START + timedelta(seconds=350))
    assert (await cache.get("may")).value == "may#scheduler"  # fresh: nothing recomputed
    assert source.calls == ["may"]


async def test_many_periods_asked_at_once_are_computed_a_few_at_a_time() -> None:
    """Each computation reads every receipt of two periods: an admin clicking through ten
    periods must not start ten at once."""
    source, clock = Source(), Clock()
    cache = PeriodCache(source.compute, clock, fresh=300, at_once=2)
    answers = [await cache.get(month, patience=0) for month in ("may", "june", "july", "aug")]
    assert answers == [None] * 4  # each page answers at once: "being computed"
    await asyncio.sleep(0)
    assert source.calls == ["may", "june"]  # the others wait their turn
    source.release.set()
    await asyncio.gather(*cache.running.values())
    assert sorted(source.calls) == ["aug", "july", "june", "may"]
