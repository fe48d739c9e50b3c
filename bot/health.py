"""What the running process knows about itself, for `GET /healthz`.

The composition root creates one `Health`, the bot calls `update_handled` after each
Telegram update it handled, and the API reads it. Nothing here touches the database.
"""

from __future__ import annotations

from datetime import datetime


class Health:
    """When the bot last handled a Telegram update (None until the first one)."""

    def __init__(self) -> None:
        self.last_update_at: datetime | None = None

    def update_handled(self, now: datetime) -> None:
        """Record that an update was handled at `now` (an aware UTC time)."""
        self.last_update_at = now

    def seconds_since_update(self, now: datetime) -> float | None:
        """How long ago the last update was handled, or None if none was."""
        if self.last_update_at is None:
            return None
        return max(0.0, (now - self.last_update_at).total_seconds())
