"""Records the services read and return: plain frozen dataclasses, no storage types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Member:
    """A member of the program; personal fields are None once the member is forgotten."""

    id: int
    code: str | None
    telegram_id: int | None
    first_name: str | None
    phone: str | None
    locale: str
    timezone: str | None
    marketing_opt_in: bool
    reachable: bool
    joined_at: datetime
    referrer_id: int | None
    tier: str
    tier_below_since: datetime | None
    first_purchase_at: datetime | None
    forgotten_at: datetime | None
    reminders_opt_in: bool = True
    surveys_opt_in: bool = True


@dataclass(frozen=True)
class NewMember:
    """What joining stores about a person."""

    code: str
    telegram_id: int | None
    first_name: str | None
    locale: str
    timezone: str | None
    joined_at: datetime
    referrer_id: int | None
    tier: str
    phone: str | None = None
    marketing_opt_in: bool = True


@dataclass(frozen=True)
class ForgottenPerson:
    """Someone who asked to be forgotten, known only by a keyed hash of their Telegram id,
    with the friends they had brought who qualified (so milestones are never paid twice)."""

    telegram_hash: str
    forgotten_at: datetime
    referrals_rewarded: int


@dataclass(frozen=True)
class ChatState:
    """The step of a multi-step chat a person is on, with what earlier steps chose."""

    step: str
    data: dict[str, str]
    updated_at: datetime


@dataclass(frozen=True)
class LedgerRecord:
    """A ledger transaction as a member's history shows it."""

    id: int
    kind: str
    points: int
    reason: str | None
    reference: str | None
    created_at: datetime


@dataclass(frozen=True)
class PurchaseRecord:
    """A recorded receipt and what it earned; `answer` is replayed for a retried request."""

    id: int
    merchant: str
    receipt_id: str
    member_id: int
    body_hash: str
    total: Decimal
    points_awarded: int
    tier_credits: int
    refunded: Decimal
    points_clawed: int
    credits_clawed: int
    lot_id: int | None
    occurred_at: datetime
    answer: dict[str, object]


@dataclass(frozen=True)
class RefundRecord:
    """One refund against a receipt, with what it took back and what it could not."""

    id: int
    purchase_id: int
    refund_id: str | None
    amount: Decimal
    points_clawed: int
    points_shortfall: int
    credits_clawed: int
    created_at: datetime


@dataclass(frozen=True)
class Referral:
    """A friend who joined through a member's link; `status` is pending, rewarded or capped."""

    id: int
    referrer_id: int
    invitee_id: int
    status: str
    joined_at: datetime
    qualified_at: datetime | None


@dataclass(frozen=True)
class Voucher:
    """A redeemed reward, used at the till by its code before `expires_at`."""

    id: int
    code: str
    member_id: int
    reward_id: str
    cost: int
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None
    request_id: str | None

    def state(self, now: datetime) -> str:
        """'used', 'expired' or 'active'."""
        if self.used_at is not None:
            return "used"
        return "expired" if now >= self.expires_at else "active"


@dataclass(frozen=True)
class Notification:
    """A message waiting for a member: a template, its values, and where it goes."""

    id: int
    member_id: int
    telegram_id: int | None
    locale: str
    template: str
    context: dict[str, object]
    attempts: int
    broadcast_id: int | None = None
    reachable: bool = True


@dataclass(frozen=True)
class ApiToken:
    """A merchant's API token (never the secret itself: only its hash is stored)."""

    id: int
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class HeldPurchase:
    """A receipt waiting for the member who will share its phone number."""

    id: int
    merchant: str
    receipt_id: str
    phone: str
    body_hash: str
    lines: list[dict[str, str | int]]
    store: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """A merchant action as the audit log keeps it."""

    id: int
    at: datetime
    actor: str
    action: str
    details: dict[str, object]


@dataclass(frozen=True)
class StaffMember:
    """A cashier an admin added in chat; `removed_at` is set once they are removed."""

    telegram_id: int
    name: str
    added_by: int
    added_at: datetime
    removed_at: datetime | None
