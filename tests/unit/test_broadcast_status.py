"""The admin's broadcast status message: counts, time left, and why a broadcast stopped."""

from __future__ import annotations

import pytest

from bot.broadcast_status import status_text
from domain.broadcasts import Broadcast, BroadcastContent, BroadcastProgress
from domain.segments import Segment
from domain.services.gifts import StatusReport
from tests.conftest import NOW


def report(
    state: str, progress: BroadcastProgress, locale: str = "en", stop_reason: str | None = None
) -> StatusReport:
    broadcast = Broadcast(
        7,
        "telegram:1",
        NOW,
        BroadcastContent("Hi"),
        Segment(),
        state,
        progress.total,
        1,
        2,
        stop_reason,
    )
    return StatusReport(broadcast, progress, locale, shown="")


def test_a_running_broadcast_shows_counts_and_time_left():
    text = status_text(
        report("running", BroadcastProgress(100, sent=40, blocked=2, pending=58)), rate=25
    )
    assert "sending" in text
    assert "Sent 40 / 100 · blocked 2" in text
    assert "About 3 s left." in text


@pytest.mark.parametrize(
    ("locale", "stopped", "why"),
    [
        ("en", "stopped", "Telegram refused the message: Bad Request: wrong file identifier"),
        ("es", "detenido", "Telegram rechazó el mensaje: Bad Request: wrong file identifier"),
    ],
)
def test_a_stopped_broadcast_says_why(locale, stopped, why):
    progress = BroadcastProgress(100, failed=1, cancelled=99)
    text = status_text(
        report("cancelled", progress, locale, "Bad Request: wrong file identifier"), rate=25
    )
    assert f"#7</b> · {stopped}" in text
    assert why in text
    assert "left" not in text


def test_an_admins_cancel_is_not_called_a_refusal():
    text = status_text(report("cancelled", BroadcastProgress(10, sent=3, cancelled=7)), 25)
    assert "cancelled" in text
    assert "refused" not in text
