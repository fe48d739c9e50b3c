"""Two scheduler processes on one PostgreSQL database: one leads; the other takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
Started = tuple[subprocess.Popen[bytes], Path]


def ticks(log: Path) -> int:
    return log.read_text().count("tick ") if log.exists() else 0


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def two_schedulers(postgres_url: str, tmp_path: Path) -> Iterator[list[Started]]:
    """Two processes running the scheduler on the same database, each logging to a file."""
    started = []
    for name in ("one", "two"):
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.scheduler.scheduler_process", postgres_url],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
        started.append((process, log))
    yield started
    for process, _ in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def test_exactly_one_leads_and_another_takes_over(two_schedulers):
    logs = [log for _, log in two_schedulers]
    assert wait_for(lambda: sum(map(ticks, logs)) >= 5, timeout=15)
    time.sleep(1)
    counts = [ticks(log) for log in logs]
    assert sorted(c > 0 for c in counts) == [False, True], counts
    leader = counts.index(max(counts))
    follower = 1 - leader
    os.kill(two_schedulers[leader][0].pid, signal.SIGKILL)
    two_schedulers[leader][0].wait(timeout=5)
    assert wait_for(lambda: ticks(logs[follower]) >= 3, timeout=5)
