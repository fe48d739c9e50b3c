"""The database schema as SQLAlchemy 2.0 declarative models.

Money safety lives here as well as in code: CHECKs keep balances, lots and stock
non-negative; unique keys make receipts, refunds, vouchers and milestones idempotent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    literal_column,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of the rows matching `where` (SQL), the same on SQLite and PostgreSQL.

    The dialect that creates it gets the WHERE then (`<dialect>_where`): given for both up
    front, SQLAlchemy would import both dialects to check the arguments, in every process.
    """
    index = Index(name, *columns, info={"where": where})
    event.listen(index, "before_create", _where_for_creator)
    return index


def _where_for_creator(index: Index, connection: Connection, **kw: Any) -> None:
    """Before CREATE INDEX: the partial index's WHERE, for the creating connection's dialect."""
    index.dialect_kwargs[f"{connection.dialect.name}_where"] = text(index.info["where"])


class Base(DeclarativeBase):
    """Declarative base with constraint names stable across databases (for migrations)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        dict[str, Any]: JSON(),
    }


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(16), unique=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    marketing_opt_in: Mapped[bool] = mapped_column(default=True)
    reachable: Mapped[bool] = mapped_column(default=True)
    joined_at: Mapped[datetime]
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    tier: Mapped[str] = mapped_column(String(64))
    tier_below_since: Mapped[datetime | None]
    first_purchase_at: Mapped[datetime | None]
    forgotten_at: Mapped[datetime | None]
    reminders_opt_in: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    invite_shown_at: Mapped[datetime | None]
    surveys_opt_in: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class InstallationKeyRow(Base):
    """A random secret of this installation, made once on first use and never changed or
    shown: `forgotten_members` keys the hashes of forgotten members' Telegram ids with it."""

    __tablename__ = "installation_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))  # hex
    created_at: Mapped[datetime]


class ForgottenMemberRow(Base):
    """A person who was forgotten, by a keyed hash of their Telegram id only (never the id),
    so coming back earns no second welcome or invite bonus (see domain.services.forgetting)."""

    __tablename__ = "forgotten_members"

    telegram_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    forgotten_at: Mapped[datetime]
    referrals_rewarded: Mapped[int] = mapped_column(BigInteger)


class AccountRow(Base):
    """The cached balance; changed only by the ledger, with its entries, in one transaction."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class TransactionRow(Base):
    """One movement of a member's points. `created_at` is its date as the member sees it:
    when the purchase happened for a receipt's points, when it was written otherwise (the
    purchase row keeps when a receipt was recorded)."""

    __tablename__ = "point_transactions"
    __table_args__ = (
        Index("ix_point_transactions_member_time", "member_id", "created_at", "id"),
        # /top sums one month of some kinds: a range of this index, not the whole ledger
        Index("ix_point_transactions_kind_time", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))
    reference: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class LotRow(Base):
    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        partial_index("ix_point_lots_open", "member_id", "expires_at", where="remaining > 0"),
        partial_index("ix_point_lots_due", "expires_at", where="remaining > 0"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("point_transactions.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# The open lots, as queries must say it to use the partial indexes above: `remaining > 0`
# with a literal 0. With a bound 0, SQLite plans the statement again on every run (whether
# a partial index applies hangs on the value), 0.12 ms of a balance screen's 0.14 in SQL.
LOT_IS_OPEN = LotRow.remaining > literal_column("0")


class EntryRow(Base):
    """One movement of points into or out of one lot."""

    __tablename__ = "point_entries"
    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        Index("ix_point_entries_member", "member_id"),
        Index("ix_point_entries_lot", "lot_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("point_transactions.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id"))
    points: Mapped[int] = mapped_column(BigInteger)


class TierCreditRow(Base):
    __tablename__ = "tier_credits"
    __table_args__ = (Index("ix_tier_credits_member_time", "member_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    credits: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]


class PurchaseRow(Base):
    __tablename__ = "purchases"
    __table_args__ = (
        UniqueConstraint("merchant", "receipt_id", name="uq_purchases_receipt"),
        CheckConstraint("refunded >= 0 AND refunded <= total", name="refund_within_total"),
        CheckConstraint("points_clawed <= points_awarded", name="clawback_within_award"),
        Index("ix_purchases_member", "member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    merchant: Mapped[str] = mapped_column(String(64))
    receipt_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    body_hash: Mapped[str] = mapped_column(String(64))
    total: Mapped[Decimal]
    points_awarded: Mapped[int] = mapped_column(BigInteger)
    tier_credits: Mapped[int] = mapped_column(BigInteger)
    refunded: Mapped[Decimal] = mapped_column(default=Decimal(0))
    points_clawed: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_clawed: Mapped[int] = mapped_column(BigInteger, default=0)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("point_lots.id"))
    store: Mapped[str | None] = mapped_column(String(128))
    lines: Mapped[dict[str, Any]]
    answer: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]


class RefundRow(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("merchant", "refund_id", name="uq_refunds_refund_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"))
    merchant: Mapped[str] = mapped_column(String(64))
    refund_id: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[Decimal]
    points_clawed: Mapped[int] = mapped_column(BigInteger)
    points_shortfall: Mapped[int] = mapped_column(BigInteger)
    credits_clawed: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class ReferralRow(Base):
    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_referrer", "referrer_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    invitee_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime]
    qualified_at: Mapped[datetime | None]


class MilestoneRow(Base):
    __tablename__ = "referral_milestones"

    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    count: Mapped[int] = mapped_column(primary_key=True)
    awarded_at: Mapped[datetime]


class RewardStockRow(Base):
    __tablename__ = "reward_stock"
    __table_args__ = (CheckConstraint("issued >= 0", name="issued_not_negative"),)

    reward_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued: Mapped[int] = mapped_column(default=0)


class VoucherRow(Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        UniqueConstraint("member_id", "request_id", name="uq_vouchers_request"),
        Index("ix_vouchers_member", "member_id", "reward_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reward_id: Mapped[str] = mapped_column(String(64))
    cost: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(64))


class CauseTotalRow(Base):
    __tablename__ = "cause_totals"
    __table_args__ = (CheckConstraint("points >= 0", name="points_not_negative"),)

    cause_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)


class DonationRow(Base):
    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        UniqueConstraint("member_id", "request_id", name="uq_donations_request"),
        Index("ix_donations_member_cause", "member_id", "cause_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    cause_id: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("point_transactions.id"))
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ConversationStateRow(Base):
    """Which step of a multi-step chat (a typed donation amount, a time zone) a person is on."""

    __tablename__ = "conversation_states"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


PENDING = "state = 'pending'"


class OutboxRow(Base):
    """A message for a member, written in the transaction that caused it, sent later.

    `state`: pending, sent (with Telegram's message id), blocked, failed (with the reason in
    `last_error`) or cancelled. A sender claims pending rows until `claimed_until`.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        partial_index("ix_outbox_pending", "id", where=PENDING),
        Index("ix_outbox_broadcast", "broadcast_id", "state"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    template: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(
        String(16), default="pending", server_default=text("'pending'")
    )
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))


class ApiTokenRow(Base):
    """A merchant API token, stored only as its SHA-256 hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class HeldPurchaseRow(Base):
    """A receipt for a phone no member has yet, credited when someone shares that phone."""

    __tablename__ = "held_purchases"
    __table_args__ = (
        UniqueConstraint("merchant", "receipt_id", name="uq_held_purchases_receipt"),
        Index("ix_held_purchases_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    merchant: Mapped[str] = mapped_column(String(64))
    receipt_id: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    body_hash: Mapped[str] = mapped_column(String(64))
    lines: Mapped[dict[str, Any]]
    store: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime]
    held_at: Mapped[datetime]
    credited_at: Mapped[datetime | None]


class AuditRow(Base):
    """One merchant action: who, when, what; written in the action's own transaction."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]


class StaffRow(Base):
    """A cashier added by an admin; removing them keeps the row for the audit trail."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    added_by: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class StaffInviteRow(Base):
    """A one-time staff invite: only the hash of its token is kept."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None]


class NudgeLogRow(Base):
    """A nudge queued for a member: once per cause, and the latest one paces the next."""

    __tablename__ = "nudge_log"
    __table_args__ = (UniqueConstraint("member_id", "cause_key", name="uq_nudge_log_cause"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    cause_key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


class SurpriseDayRow(Base):
    """Surprise points given on one program-local day, kept within the daily budget."""

    __tablename__ = "surprise_days"
    __table_args__ = (CheckConstraint("granted >= 0", name="granted_not_negative"),)

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    granted: Mapped[int] = mapped_column(BigInteger, default=0)


class SurpriseRow(Base):
    """One member's surprise on one draw day (at most one), with its ledger transaction."""

    __tablename__ = "surprises"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("point_transactions.id"))
    at: Mapped[datetime]


class BroadcastRow(Base):
    """A message to a segment of members: its content, its recipients are outbox rows."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    text: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(2048))  # a Telegram file_id or a URL
    button_text: Mapped[str | None] = mapped_column(String(64))
    button_url: Mapped[str | None] = mapped_column(String(512))
    bonus_points: Mapped[int | None] = mapped_column(BigInteger)
    reward_id: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(BigInteger)
    status_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    status_message_id: Mapped[int | None] = mapped_column(BigInteger)
    stop_reason: Mapped[str | None] = mapped_column(String(512))  # Telegram refused it


class SendPacingRow(Base):
    """When the next send may go: key 'global' for the bot, 'chat:<member id>' per chat."""

    __tablename__ = "send_pacing"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    free_at: Mapped[float] = mapped_column(Double)


class BroadcastGiftRow(Base):
    """A broadcast's bonus or voucher, claimed by one member: the key makes it once each."""

    __tablename__ = "broadcast_gifts"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    claimed_at: Mapped[datetime]


class BroadcastStatusRow(Base):
    """The status text last shown to the admin for a broadcast, so it is edited only on change."""

    __tablename__ = "broadcast_status"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), primary_key=True)
    locale: Mapped[str] = mapped_column(String(16))
    shown: Mapped[str] = mapped_column(Text)


class SurveySendRow(Base):
    """A satisfaction survey asked of one member after one trigger (its outbox row goes
    with it); the latest paces the next, and `rewarded_at` pays its bonus once."""

    __tablename__ = "survey_sends"
    __table_args__ = (
        UniqueConstraint("survey_id", "member_id", "reference", name="uq_survey_sends_trigger"),
        Index("ix_survey_sends_member", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    trigger: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(160))
    store: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    rewarded_at: Mapped[datetime | None]


class SurveyAnswerRow(Base):
    """One answer to one question of a survey sent: the first tap counts, once."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("send_id", "question", name="uq_survey_answers_question"),
        Index("ix_survey_answers_time", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("survey_sends.id"))
    question: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime]


class SurveyCommentRow(Base):
    """The free-text comment after a low score, one per survey sent, read by admins."""

    __tablename__ = "survey_comments"
    __table_args__ = (Index("ix_survey_comments_time", "created_at"),)

    send_id: Mapped[int] = mapped_column(ForeignKey("survey_sends.id"), primary_key=True)
    question: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ActionClaimRow(Base):
    """An action that earns, claimed by one member: the key makes it once per member (and
    per member-local year, `period`, for the birthday; '' for the others). A link that
    needs approval waits as `pending` until an admin's decision takes it, once."""

    __tablename__ = "action_claims"
    __table_args__ = (
        UniqueConstraint("member_id", "action_id", "period", name="uq_action_claims_once"),
        CheckConstraint("status IN ('pending', 'paid', 'rejected')", name="status_known"),
        Index("ix_action_claims_pending", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    action_id: Mapped[str] = mapped_column(String(24))
    period: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("point_transactions.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    claimed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))


class BirthdayRow(Base):
    """A member's birthday, day and month only (the year is none of our business); set
    once and changeable a year after `set_at`."""

    __tablename__ = "birthdays"
    __table_args__ = (
        CheckConstraint("month BETWEEN 1 AND 12", name="month_in_range"),
        CheckConstraint("day BETWEEN 1 AND 31", name="day_in_range"),
        Index("ix_birthdays_day", "month", "day"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime]


class LeaderboardNameRow(Base):
    """A member who chose to appear by name on the leaderboard (everyone else is a masked
    code there)."""

    __tablename__ = "leaderboard_names"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    chosen_at: Mapped[datetime]


class StampCardRow(Base):
    """A member's stamp card: the stamps on the current card and how many cards they have
    filled (each filled card issued one voucher, keyed by that count)."""

    __tablename__ = "stamp_cards"
    __table_args__ = (
        CheckConstraint("stamps >= 0", name="stamps_not_negative"),
        CheckConstraint("filled >= 0", name="filled_not_negative"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    card_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    stamps: Mapped[int] = mapped_column(Integer)
    filled: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class RoundUpRow(Base):
    """The cause a member rounds each purchase's points up for (no row: they do not)."""

    __tablename__ = "round_ups"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    cause_id: Mapped[str] = mapped_column(String(64))
    chosen_at: Mapped[datetime]


class WebLoginRow(Base):
    """A one-time dashboard login link: only the hash of its token is kept; used once."""

    __tablename__ = "web_logins"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ChallengeJoinRow(Base):
    """A member who tapped "Join" on an opt-in challenge; a rolling window starts here."""

    __tablename__ = "challenge_joins"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    challenge_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    joined_at: Mapped[datetime]


class ChallengeWindowRow(Base):
    """What a member was told and won in one window of a challenge: the key rewards the
    completion once, also when two purchases complete it at once."""

    __tablename__ = "challenge_windows"
    __table_args__ = (
        UniqueConstraint("member_id", "challenge_id", "window_start", name="uq_challenge_windows"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    challenge_id: Mapped[str] = mapped_column(String(24))
    window_start: Mapped[datetime]
    halfway_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("point_transactions.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))


class PromotionAnnouncementRow(Base):
    """A promotion with `announce = true` whose start was told to its members: the key makes
    every scheduler run after the first (or a second process) tell nobody again."""

    __tablename__ = "promotion_announcements"

    promotion_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    starts: Mapped[str] = mapped_column(String(16), primary_key=True)  # program-local, ISO
    announced_at: Mapped[datetime]
    members: Mapped[int] = mapped_column(default=0)


class KeptFiguresRow(Base):
    """What the dashboard shows of a period in a locale (JSON), and when it was computed."""

    __tablename__ = "kept_figures"
    __table_args__ = (Index("ix_kept_figures_computed_at", "computed_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    computed_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
