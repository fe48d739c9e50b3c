"""The rate limiter with a fake clock: the global pace, per-chat spacing, 429 pauses.

The same behaviour from the in-memory store (one process) and the database store (shared
by processes), the latter on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.delivery.pacing import MemorySlots, RateLimiter
from storage.repositories.pacing import SqlSlots

T0 = 1_800_000_000.0  # a fake clock: seconds since the epoch


@pytest.fixture(params=["memory", "database"])
async def limiter(request: pytest.FixtureRequest, database) -> RateLimiter:
    if request.param == "database":
        return RateLimiter(SqlSlots(database), rate=25)
    if database.dialect != "sqlite":
        pytest.skip("the in-memory store needs no second database")
    return RateLimiter(MemorySlots(), rate=25)


async def test_slots_follow_the_rate_from_now(limiter: RateLimiter) -> None:
    times = await limiter.schedule([1, 2, 3], T0)
    assert times == pytest.approx([T0, T0 + 0.04, T0 + 0.08])
    later = await limiter.schedule([4, 5], T0 + 0.01)  # the schedule is busy until T0+0.12
    assert later == pytest.approx([T0 + 0.12, T0 + 0.16])
    idle = await limiter.schedule([6], T0 + 10)  # an idle schedule starts from now, no burst
    assert idle == pytest.approx([T0 + 10])
    assert await limiter.free_at() == pytest.approx(T0 + 10.04)


async def test_one_chat_gets_one_message_a_second(limiter: RateLimiter) -> None:
    assert await limiter.schedule([7, 7, 8], T0) == pytest.approx([T0, None, T0 + 0.08])
    assert await limiter.schedule([7], T0 + 0.5) == [None]  # slot T0+0.12: too soon for 7
    [again] = await limiter.schedule([7], T0 + 1.0)
    assert again == pytest.approx(T0 + 1.0)


async def test_a_pause_holds_every_later_slot(limiter: RateLimiter) -> None:
    await limiter.schedule([1], T0)
    await limiter.pause(T0 + 5)
    await limiter.pause(T0 + 2)  # an earlier end never shortens a pause
    assert await limiter.free_at() == pytest.approx(T0 + 5)
    assert await limiter.schedule([2], T0 + 1) == pytest.approx([T0 + 5])


async def test_a_hold_is_told_apart_from_the_pace(limiter: RateLimiter) -> None:
    await limiter.schedule([1, 2, 3], T0)  # the pace runs ahead; that holds nothing
    assert await limiter.held_until() == 0
    await limiter.pause(T0 + 5)
    await limiter.store.forget_before(T0 + 100)  # forgetting chats keeps the hold
    assert await limiter.held_until() == pytest.approx(T0 + 5)


async def test_forgetting_old_chats_keeps_recent_ones(limiter: RateLimiter) -> None:
    await limiter.schedule([1, 2], T0)
    await limiter.store.forget_before(T0 + 1.02)  # chat 1 free at T0+1, chat 2 at T0+1.04
    assert await limiter.schedule([2], T0 + 0.5) == [None]
    assert await limiter.schedule([1], T0 + 0.5) != [None]


async def test_concurrent_reservations_never_overlap(database) -> None:
    # As two processes would: many batches at once, one store, one pace.
    limiter = RateLimiter(SqlSlots(database), rate=100)
    batches = await asyncio.gather(
        *(limiter.schedule([b * 10 + i for i in range(10)], T0) for b in range(8))
    )
    times = sorted(t for batch in batches for t in batch if t is not None)
    assert len(times) == 80
    assert all(b - a >= 0.01 - 1e-6 for a, b in itertools.pairwise(times))


def test_nonsense_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(MemorySlots(), rate=0)
