"""Keeping each admin's broadcast status message current while the outbox sends.

Stateless between passes: the text last shown is in the database, so a message is edited
only when its numbers changed, by whichever process runs this, and a restart picks up.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from bot.conversation.actions import Edit
from bot.delivery.trouble import Trouble
from bot.telegram.replies import BotApi, RetryLater, TelegramRefused, TelegramUnreachable
from domain.ports import UnitOfWork
from domain.services.gifts import StatusReport, status_reports, status_shown
from messages.render import render

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0


def status_text(report: StatusReport, rate: float) -> str:
    """The status message: counts, and the time left at the configured send rate."""
    running = report.broadcast.state == "running"
    seconds = math.ceil(report.progress.pending / rate) if running and rate > 0 else None
    return render(
        "broadcast_status",
        report.locale,
        id=report.broadcast.id,
        p=report.progress,
        state=report.broadcast.state,
        seconds_left=seconds,
        reason=report.broadcast.stop_reason,
    )


async def refresh_statuses(
    writer: Callable[[], UnitOfWork], reader: Callable[[], UnitOfWork], api: BotApi, rate: float
) -> int:
    """Edit every status message whose text changed; how many were edited."""
    edited = 0
    for report in await status_reports(reader()):
        text = status_text(report, rate)
        broadcast = report.broadcast
        if text == report.shown or broadcast.status_chat_id is None:
            continue
        assert broadcast.status_message_id is not None
        try:
            await api.edit(Edit(broadcast.status_chat_id, broadcast.status_message_id, text))
        except TelegramRefused as refused:  # deleted by the admin, say: nothing to update
            log.info("status of broadcast %s not edited: %s", broadcast.id, refused)
        await status_shown(writer(), broadcast.id, report.locale, text)
        edited += 1
    return edited


async def status_loop(
    writer: Callable[[], UnitOfWork], reader: Callable[[], UnitOfWork], api: BotApi, rate: float
) -> None:
    """Refresh status messages every couple of seconds until cancelled; a failure that
    repeats (the database or Telegram down) is logged once a minute."""
    trouble = Trouble(log, "broadcast status: refresh failing; retrying")
    while True:
        try:
            await refresh_statuses(writer, reader, api, rate)
        except RetryLater as wait:
            await asyncio.sleep(wait.seconds)
        except TelegramUnreachable as error:
            trouble.happened(time.monotonic(), f"Telegram unreachable: {error}")
        except Exception as error:
            trouble.happened(time.monotonic(), error, unexpected=True)
        else:
            trouble.over()
        await asyncio.sleep(REFRESH_SECONDS)
