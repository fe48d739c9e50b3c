"""Domain errors: each has a stable `code` for APIs and a developer-facing message.

What a person reads is rendered from `messages/` by the caller, keyed on `code`.
"""

from __future__ import annotations


class LoyaltyError(Exception):
    """Base of every refusal by a loyalty rule."""

    code = "loyalty_error"


class NotFound(LoyaltyError):
    """Something named by the caller does not exist."""

    code = "not_found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what, self.key = what, key


class InvalidRequest(LoyaltyError):
    """The caller's input breaks a rule that no state can fix (bad amount, empty reason)."""

    code = "invalid"


class Conflict(LoyaltyError):
    """The request contradicts one already recorded (same receipt id, other body)."""

    code = "conflict"


class InsufficientPoints(LoyaltyError):
    """The balance does not cover a spend."""

    code = "insufficient_points"

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"needs {needed} points, balance has {available}")
        self.needed, self.available = needed, available


class RewardUnavailable(LoyaltyError):
    """A reward cannot be redeemed now; `reason` says why."""

    code = "reward_unavailable"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class VoucherUnusable(LoyaltyError):
    """A voucher cannot be used at the till; `reason` is used, expired or cancelled."""

    code = "voucher_unusable"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class RefundExceedsReceipt(Conflict):
    """A refund asks back more than is left of the receipt."""

    code = "refund_exceeds_receipt"


class DuplicateKey(Exception):
    """Storage refused a row because a unique key already holds it (a concurrent twin).

    No loyalty rule refused anything: a use case that can meet a twin catches this and
    answers as the twin did (see `domain.services.transactions.once`).
    """
