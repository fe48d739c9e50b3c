"""`Trouble`: a failure that repeats every second (a database down, Telegram unreachable)
logged once a minute with a count, instead of a line or a traceback each time."""

from __future__ import annotations

import logging

EVERY = 60.0  # seconds between two lines about the same trouble


class Trouble:
    """One kind of failure: its first occurrence is logged (with the traceback when it was
    unexpected), then at most one line every EVERY seconds with how often it happened
    meanwhile, and one line when it is over."""

    def __init__(self, log: logging.Logger, what: str, every: float = EVERY) -> None:
        self.log, self.what, self.every = log, what, every
        self.since: float | None = None  # when the last line was written; None: no trouble
        self.repeats = 0  # occurrences since that line
        self.total = 0  # occurrences since the trouble began

    def happened(self, now: float, reason: object, unexpected: bool = False) -> None:
        """One more occurrence, at `now` (seconds); `unexpected`: log its traceback the first
        time (call from an `except` block)."""
        self.total += 1
        if self.since is None:
            self.log.error("%s: %s", self.what, reason, exc_info=unexpected)
            self.since = now
        elif now - self.since >= self.every:
            self.log.error(
                "%s: %s (%d times in the last %.0f s)",
                self.what,
                reason,
                self.repeats + 1,
                now - self.since,
            )
            self.since, self.repeats = now, 0
        else:
            self.repeats += 1

    def over(self) -> None:
        """It worked again: say so once, and start afresh."""
        if self.since is not None:
            self.log.info("%s: working again after %d failures", self.what, self.total)
        self.since, self.repeats, self.total = None, 0, 0
