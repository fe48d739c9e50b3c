"""Sending the outbox: each notification rendered in the member's language, sent once.

A sent notification is marked in the database before the next one goes, so a restart
resumes without sending twice. 429 waits `retry_after`; 403 means the member blocked the
bot, which is recorded; other refusals are final; network trouble is retried a few times.
Broadcasts and fine-grained rate limits build on this (see the proactive-messages issue).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.conversation.actions import Send
from bot.telegram.replies import (
    BotApi,
    RecipientBlocked,
    RetryLater,
    TelegramRefused,
    TelegramUnreachable,
)
from domain.models import Notification
from domain.ports import UnitOfWork
from domain.services.notifications import (
    notification_failed,
    notification_sent,
    pending_notifications,
)
from messages.render import render

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
IDLE_SECONDS = 1.0


async def deliver_pending(writer: Callable[[], UnitOfWork], api: BotApi,
                          clock: Callable[[], datetime], batch: int = 50) -> int:
    """Send what is waiting, oldest first; the number of notifications settled."""
    notifications = await pending_notifications(writer(), batch)
    for notification in notifications:
        await _deliver(writer, api, clock, notification)
    return len(notifications)


async def _deliver(writer: Callable[[], UnitOfWork], api: BotApi,
                   clock: Callable[[], datetime], notification: Notification) -> None:
    if notification.telegram_id is None:
        await notification_failed(writer(), notification, clock(), "forgotten", final=True)
        return
    text = render(notification.template, notification.locale, **notification.context)
    try:
        await api.send(Send(notification.telegram_id, text))
    except RetryLater as wait:
        await asyncio.sleep(wait.seconds)  # Telegram's own pace: the next pass retries it
        return
    except RecipientBlocked:
        await notification_failed(writer(), notification, clock(), "blocked", final=True)
        return
    except TelegramRefused as refused:
        await notification_failed(writer(), notification, clock(), str(refused), final=True)
        return
    except TelegramUnreachable as trouble:
        final = notification.attempts + 1 >= MAX_ATTEMPTS
        await notification_failed(writer(), notification, clock(), str(trouble), final)
        return
    await notification_sent(writer(), notification.id, clock())


async def delivery_loop(writer: Callable[[], UnitOfWork], api: BotApi,
                        clock: Callable[[], datetime]) -> None:
    """Deliver until cancelled, resting a second whenever the outbox is empty."""
    while True:
        try:
            if await deliver_pending(writer, api, clock) == 0:
                await asyncio.sleep(IDLE_SECONDS)
        except Exception:
            log.exception("outbox delivery failed; retrying")
            await asyncio.sleep(IDLE_SECONDS)
