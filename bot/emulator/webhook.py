"""Webhook delivery: POST each update as JSON to the bot's URL, retrying failures with backoff.

Updates of one chat are delivered one after another, in order; different chats in parallel up
to max_connections. A 2xx answer whose JSON body names a "method" is executed as a Bot API call,
as Telegram does. Every attempt is recorded for tests.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.emulator.updates import UpdateQueue

__all__ = ["SECRET_HEADER", "Delivery", "WebhookConfig", "WebhookSender"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class WebhookConfig:
    """What setWebhook set."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one update."""

    update_id: int
    attempt: int
    status: int | None
    error: str | None
    secret_sent: bool

    @property
    def ok(self) -> bool:
        """The webhook answered 2xx."""
        return self.error is None


def _chat_key(update: dict[str, Any]) -> int:
    for key, payload in update.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        message = payload.get("message", payload)
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict):
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict):
            return int(sender["id"])
    return 0


class WebhookSender:
    """Drains the update queue into the configured webhook while one is set."""

    def __init__(
        self,
        queue: UpdateQueue,
        notify: Callable[[], None],
        *,
        attempts: int = 3,
        backoff: float = 0.05,
        timeout: float = 10.0,
    ) -> None:
        self.queue = queue
        self.notify = notify
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.config: WebhookConfig | None = None
        self.deliveries: list[Delivery] = []
        self.last_error: tuple[int, str] | None = None
        self.on_reply: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def in_flight(self) -> int:
        """Updates taken from the queue and not yet delivered or given up."""
        return len(self._tasks)

    def start(self, config: WebhookConfig, session: aiohttp.ClientSession) -> None:
        """Deliver to this webhook from now on."""
        self.stop()
        self.config = config
        self.last_error = None
        self._pump_task = asyncio.create_task(self._pump(config, session))

    def stop(self) -> None:
        """Stop taking updates (deliveries under way finish)."""
        self.config = None
        if self._pump_task is not None:
            self._pump_task.cancel()
            self._pump_task = None

    async def close(self) -> None:
        """Stop and cancel every delivery under way."""
        pump = self._pump_task
        self.stop()
        tasks = [*self._tasks, *([pump] if pump else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _pump(self, config: WebhookConfig, session: aiohttp.ClientSession) -> None:
        slots = asyncio.Semaphore(config.max_connections)
        while True:
            await slots.acquire()
            try:
                update = await self.queue.pop()
            except BaseException:
                slots.release()
                raise
            lock = self._locks.setdefault(_chat_key(update), asyncio.Lock())
            task = asyncio.create_task(self._deliver(config, session, update, slots, lock))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.notify()

    async def _deliver(
        self,
        config: WebhookConfig,
        session: aiohttp.ClientSession,
        update: dict[str, Any],
        slots: asyncio.Semaphore,
        lock: asyncio.Lock,
    ) -> None:
        try:
            async with lock:
                for attempt in range(1, self.attempts + 1):
                    status, error, reply = await self._post(config, session, update)
                    self.deliveries.append(
                        Delivery(
                            update["update_id"], attempt, status, error, bool(config.secret_token)
                        )
                    )
                    self.notify()
                    if error is None:
                        if reply is not None and self.on_reply is not None:
                            await self.on_reply(reply)
                        return
                    self.last_error = (int(time.time()), error)
                    if attempt < self.attempts:
                        await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        finally:
            slots.release()

    async def _post(
        self, config: WebhookConfig, session: aiohttp.ClientSession, update: dict[str, Any]
    ) -> tuple[int | None, str | None, dict[str, Any] | None]:
        headers = {"Content-Type": "application/json"}
        if config.secret_token:
            headers[SECRET_HEADER] = config.secret_token
        try:
            async with session.post(
                config.url,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                body = await response.read()
                if not 200 <= response.status < 300:
                    return (
                        response.status,
                        (f"Wrong response from the webhook: {response.status} {response.reason}"),
                        None,
                    )
                return response.status, None, _method_reply(body)
        except TimeoutError:
            return None, "Read timeout expired", None
        except aiohttp.ClientError as error:
            return None, f"Connection failed: {error}", None


def _method_reply(body: bytes) -> dict[str, Any] | None:
    if not body.strip().startswith(b"{"):
        return None
    try:
        reply = json.loads(body)
    except ValueError:
        return None
    if isinstance(reply, dict) and isinstance(reply.get("method"), str):
        return reply
    return None
