"""`Pace` with a fake clock: 30 a second for the bot after a burst of five, one a second per
chat after a burst of three, in the order asked; a busy chat holds back no other chat."""

from __future__ import annotations

import pytest

from bot.telegram.pace import FORGET_EVERY, SHARED_BY, Pace
from bot.workers import worker_env


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 500.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def pace(time: FakeTime) -> Pace:
    return Pace(clock=time.clock, sleep=time.sleep)


async def went_at(pace: Pace, time: FakeTime, chats: list[int], paid: bool = False) -> list:
    """When each message, asked for in turn, went (seconds from the start)."""
    start, times = time.now, []
    for chat in chats:
        assert await pace.turn(chat, paid, deadline=float("inf")) is not None
        times.append(round(time.now - start, 6))
    return times


async def test_the_bot_sends_five_at_once_then_thirty_a_second(pace, time):
    times = await went_at(pace, time, list(range(8)))
    assert times == [0, 0, 0, 0, 0, round(1 / 30, 6), round(2 / 30, 6), round(3 / 30, 6)]


async def test_one_chat_gets_three_at_once_then_one_a_second(pace, time):
    assert await went_at(pace, time, [7] * 5) == [0, 0, 0, 1, 2]


async def test_a_busy_chat_holds_back_no_other_chat(pace, time):
    assert await went_at(pace, time, [7, 7, 7, 7]) == [0, 0, 0, 1]
    assert await went_at(pace, time, [8]) == [0]  # right after chat 7's wait, not after it


async def test_paid_sends_skip_the_bots_limit_but_not_the_chats(pace, time):
    assert await went_at(pace, time, list(range(100)), paid=True) == [0] * 100
    assert await went_at(pace, time, [1] * 4, paid=True) == [0, 0, 1, 2]  # 1 sent once before


async def test_a_turn_past_the_deadline_is_refused(pace, time):
    await went_at(pace, time, [7, 7, 7])
    assert await pace.turn(7, False, deadline=time.now + 0.5) is None  # its turn: in 1 s
    assert time.now == 500.0  # nothing waited
    assert await pace.turn(7, False, deadline=time.now + 1.0) == 1.0


async def test_the_backlog_is_how_long_until_the_next_free_turn(time):
    async def no_sleep(seconds: float) -> None:
        pass

    pace = Pace(clock=time.clock, sleep=no_sleep)
    assert pace.backlog() == 0
    for chat in range(35):
        await pace.turn(chat, False, deadline=float("inf"))
    assert pace.backlog() == pytest.approx(31 / 30)  # 35 asked at once, five free


async def test_chats_at_rest_are_forgotten(pace, time):
    await went_at(pace, time, [1, 2, 2, 2])
    time.now += FORGET_EVERY
    await went_at(pace, time, [3])
    assert set(pace.chats) == {3}


def test_nonsense_limits_are_refused():
    with pytest.raises(ValueError, match="positive"):
        Pace(rate=0)
    with pytest.raises(ValueError, match="at least 1"):
        Pace(chat_burst=0)


async def test_each_of_two_workers_takes_half_the_bots_rate(time, monkeypatch):
    monkeypatch.setenv(SHARED_BY, "2")  # as `run --workers 2` sets it for each worker
    pace = Pace(clock=time.clock, sleep=time.sleep)
    times = await went_at(pace, time, list(range(5)))
    assert times == [0, 0, round(1 / 15, 6), round(2 / 15, 6), round(3 / 15, 6)]  # 2 at once
    assert await went_at(pace, time, [7] * 4) == [0.066667, 0.133333, 0.2, 1.0]  # 15 a second


def test_a_worker_is_told_how_many_share_the_bot():
    assert worker_env(2, 3)[SHARED_BY] == "3"
