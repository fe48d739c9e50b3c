"""Receipt ids: the merchant's own (from a till or a CSV export), or made up by the bot.

A sale typed by a cashier in chat has no till receipt, so the bot makes an id up to record
it once; such an id means nothing to the customer and is never shown to them.
"""

from __future__ import annotations

import secrets

MADE_UP_PREFIX = "chat-"


def made_up_receipt_id() -> str:
    """A new receipt id for a sale recorded in chat."""
    return f"{MADE_UP_PREFIX}{secrets.token_hex(5)}"


def is_made_up(receipt_id: str) -> bool:
    """Whether the bot made this receipt id up (rather than the merchant's till)."""
    return receipt_id.startswith(MADE_UP_PREFIX)
