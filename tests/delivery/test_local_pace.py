"""`LocalPace`: a process's own sends on pace, late ones made up in a bounded burst."""

from __future__ import annotations

from bot.telegram.pace import LocalPace


def test_sends_on_time_go_when_asked() -> None:
    pace = LocalPace(interval=0.25, catch_up=1.0)
    assert [pace.start(t) for t in (10.0, 10.25, 10.5)] == [10.0, 10.25, 10.5]


def test_a_late_wake_makes_up_at_most_catch_up_at_once_then_keeps_the_pace() -> None:
    pace = LocalPace(interval=0.25, catch_up=1.0)
    pace.start(10.0)
    late = [pace.start(13.0) for _ in range(7)]  # seven sends whose slots passed meanwhile
    assert late == [13.0] * 5 + [13.25, 13.5]  # one on time and a second's worth behind it


def test_without_catch_up_late_sends_go_one_interval_apart() -> None:
    pace = LocalPace(interval=0.25, catch_up=0.0)
    pace.start(10.0)
    assert [pace.start(13.0) for _ in range(3)] == [13.0, 13.25, 13.5]


def test_a_burst_is_bounded_however_long_the_wait_was() -> None:
    pace = LocalPace(interval=0.25, catch_up=0.5)
    assert [pace.start(100.0) for _ in range(4)] == [100.0, 100.0, 100.0, 100.25]
