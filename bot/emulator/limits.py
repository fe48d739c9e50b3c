"""Flood limits: token buckets per chat, per group and overall, answering 429 retry_after."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LimitSettings", "RateLimiter"]


@dataclass(frozen=True)
class LimitSettings:
    """How fast the bot may send; off unless enabled."""

    enabled: bool = False
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    global_per_second: float = 30.0
    global_burst: int = 30
    paid_per_second: float = 1000.0  # sends with allow_paid_broadcast
    paid_burst: int = 1000


class _Bucket:
    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """Decides whether one more message may go to a chat now."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = LimitSettings()
        self._clock = clock
        self._chats: dict[int, _Bucket] = {}
        self._groups: dict[int, _Bucket] = {}
        self._global: _Bucket | None = None
        self._paid: _Bucket | None = None
        self._forced: list[int] = []

    def force_429(self, retry_after: int, times: int = 1) -> None:
        """Answer the next `times` sends with 429 retry_after, limits on or off."""
        self._forced.extend([retry_after] * times)

    def configure(self, settings: LimitSettings) -> None:
        """Apply new settings and start with full buckets."""
        self.settings = settings
        self._chats.clear()
        self._groups.clear()
        self._global = self._paid = None

    def check(self, chat_id: int, is_group: bool, paid: bool = False) -> int:
        """0 and count the message if allowed, else the whole seconds to wait (at least 1).

        A paid broadcast counts against the paid bulk limit instead of the free one.
        """
        if self._forced:
            return self._forced.pop(0)
        s = self.settings
        if not s.enabled:
            return 0
        now = self._clock()
        buckets = [self._bulk(paid, now)]
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Bucket(s.per_chat_burst, s.per_chat_per_second, now)
        buckets.append(chat)
        if is_group:
            group = self._groups.get(chat_id)
            if group is None:
                group = self._groups[chat_id] = _Bucket(
                    s.per_group_per_minute, s.per_group_per_minute / 60, now
                )
            buckets.append(group)
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take()
        return 0

    def _bulk(self, paid: bool, now: float) -> _Bucket:
        s = self.settings
        if paid:
            if self._paid is None:
                self._paid = _Bucket(s.paid_burst, s.paid_per_second, now)
            return self._paid
        if self._global is None:
            self._global = _Bucket(s.global_burst, s.global_per_second, now)
        return self._global
