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

    def configure(self, settings: LimitSettings) -> None:
        """Apply new settings and start with full buckets."""
        self.settings = settings
        self._chats.clear()
        self._groups.clear()
        self._global = None

    def check(self, chat_id: int, is_group: bool) -> int:
        """0 and count the message if allowed, else the whole seconds to wait (at least 1)."""
        s = self.settings
        if not s.enabled:
            return 0
        now = self._clock()
        if self._global is None:
            self._global = _Bucket(s.global_burst, s.global_per_second, now)
        buckets = [self._global]
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
