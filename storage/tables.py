"""The database schema as SQLAlchemy Core tables.

Money safety lives here as well as in code: CHECKs keep balances, lots and stock
non-negative; unique keys make receipts, refunds, vouchers and milestones idempotent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    literal_column,
    text,
)
from sqlalchemy.engine import Connection

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


# Constraint names stable across databases (for migrations).
metadata = MetaData(naming_convention=NAMING)


MemberRow = Table(
    "members",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(16), unique=True),
    Column("telegram_id", BigInteger, unique=True),
    Column("first_name", String(128)),
    Column("phone", String(32), unique=True),
    Column("locale", String(16), nullable=False),
    Column("timezone", String(64)),
    Column("marketing_opt_in", Boolean, default=True, nullable=False),
    Column("reachable", Boolean, default=True, nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
    Column("referrer_id", ForeignKey("members.id")),
    Column("tier", String(64), nullable=False),
    Column("tier_below_since", UTCDateTime()),
    Column("first_purchase_at", UTCDateTime()),
    Column("forgotten_at", UTCDateTime()),
    Column("reminders_opt_in", Boolean, default=True, server_default=text("true"), nullable=False),
    Column("invite_shown_at", UTCDateTime()),
    Column("surveys_opt_in", Boolean, default=True, server_default=text("true"), nullable=False),
)


# A random secret of this installation, made once on first use and never changed or
# shown: `forgotten_members` keys the hashes of forgotten members' Telegram ids with it.
InstallationKeyRow = Table(
    "installation_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("secret", String(64), nullable=False),  # hex
    Column("created_at", UTCDateTime(), nullable=False),
)


# A person who was forgotten, by a keyed hash of their Telegram id only (never the id),
# so coming back earns no second welcome or invite bonus (see domain.services.forgetting).
ForgottenMemberRow = Table(
    "forgotten_members",
    metadata,
    Column("telegram_hash", String(64), primary_key=True),
    Column("forgotten_at", UTCDateTime(), nullable=False),
    Column("referrals_rewarded", BigInteger, nullable=False),
)


# The cached balance; changed only by the ledger, with its entries, in one transaction.
AccountRow = Table(
    "accounts",
    metadata,
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("balance", BigInteger, default=0, nullable=False),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
)


# One movement of a member's points. `created_at` is its date as the member sees it:
# when the purchase happened for a receipt's points, when it was written otherwise (the
# purchase row keeps when a receipt was recorded).
TransactionRow = Table(
    "point_transactions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("reason", Text),
    Column("actor", String(128)),
    Column("reference", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_point_transactions_member_time", "member_id", "created_at", "id"),
    # /top sums one month of some kinds: a range of this index, not the whole ledger
    Index("ix_point_transactions_kind_time", "kind", "created_at"),
)


LotRow = Table(
    "point_lots",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("transaction_id", ForeignKey("point_transactions.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("earned_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    CheckConstraint("points > 0", name="points_positive"),
    CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
    partial_index("ix_point_lots_open", "member_id", "expires_at", where="remaining > 0"),
    partial_index("ix_point_lots_due", "expires_at", where="remaining > 0"),
)


# The open lots, as queries must say it to use the partial indexes above: `remaining > 0`
# with a literal 0. With a bound 0, SQLite plans the statement again on every run (whether
# a partial index applies hangs on the value), 0.12 ms of a balance screen's 0.14 in SQL.
LOT_IS_OPEN = LotRow.c.remaining > literal_column("0")


# One movement of points into or out of one lot.
EntryRow = Table(
    "point_entries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("transaction_id", ForeignKey("point_transactions.id"), nullable=False),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("lot_id", ForeignKey("point_lots.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    CheckConstraint("points <> 0", name="points_not_zero"),
    Index("ix_point_entries_member", "member_id"),
    Index("ix_point_entries_lot", "lot_id"),
)


TierCreditRow = Table(
    "tier_credits",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Index("ix_tier_credits_member_time", "member_id", "occurred_at"),
)


PurchaseRow = Table(
    "purchases",
    metadata,
    Column("id", Id, primary_key=True),
    Column("merchant", String(64), nullable=False),
    Column("receipt_id", String(128), nullable=False),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("total", Money(), nullable=False),
    Column("points_awarded", BigInteger, nullable=False),
    Column("tier_credits", BigInteger, nullable=False),
    Column("refunded", Money(), default=Decimal(0), nullable=False),
    Column("points_clawed", BigInteger, default=0, nullable=False),
    Column("credits_clawed", BigInteger, default=0, nullable=False),
    Column("lot_id", ForeignKey("point_lots.id")),
    Column("store", String(128)),
    Column("lines", JSON, nullable=False),
    Column("answer", JSON, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("merchant", "receipt_id", name="uq_purchases_receipt"),
    CheckConstraint("refunded >= 0 AND refunded <= total", name="refund_within_total"),
    CheckConstraint("points_clawed <= points_awarded", name="clawback_within_award"),
    Index("ix_purchases_member", "member_id", "occurred_at"),
)


RefundRow = Table(
    "refunds",
    metadata,
    Column("id", Id, primary_key=True),
    Column("purchase_id", ForeignKey("purchases.id"), nullable=False),
    Column("merchant", String(64), nullable=False),
    Column("refund_id", String(128)),
    Column("amount", Money(), nullable=False),
    Column("points_clawed", BigInteger, nullable=False),
    Column("points_shortfall", BigInteger, nullable=False),
    Column("credits_clawed", BigInteger, nullable=False),
    Column("actor", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("merchant", "refund_id", name="uq_refunds_refund_id"),
    CheckConstraint("amount > 0", name="amount_positive"),
)


ReferralRow = Table(
    "referrals",
    metadata,
    Column("id", Id, primary_key=True),
    Column("referrer_id", ForeignKey("members.id"), nullable=False),
    Column("invitee_id", ForeignKey("members.id"), unique=True, nullable=False),
    Column("status", String(16), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
    Column("qualified_at", UTCDateTime()),
    Index("ix_referrals_referrer", "referrer_id", "status"),
)


MilestoneRow = Table(
    "referral_milestones",
    metadata,
    Column("referrer_id", ForeignKey("members.id"), primary_key=True),
    Column("count", Integer, primary_key=True),
    Column("awarded_at", UTCDateTime(), nullable=False),
)


RewardStockRow = Table(
    "reward_stock",
    metadata,
    Column("reward_id", String(64), primary_key=True),
    Column("issued", Integer, default=0, nullable=False),
    CheckConstraint("issued >= 0", name="issued_not_negative"),
)


VoucherRow = Table(
    "vouchers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(32), unique=True, nullable=False),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("reward_id", String(64), nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    Column("used_by", String(128)),
    Column("request_id", String(64)),
    UniqueConstraint("member_id", "request_id", name="uq_vouchers_request"),
    Index("ix_vouchers_member", "member_id", "reward_id"),
)


CauseTotalRow = Table(
    "cause_totals",
    metadata,
    Column("cause_id", String(64), primary_key=True),
    Column("points", BigInteger, default=0, nullable=False),
    CheckConstraint("points >= 0", name="points_not_negative"),
)


DonationRow = Table(
    "donations",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("cause_id", String(64), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("transaction_id", ForeignKey("point_transactions.id"), nullable=False),
    Column("request_id", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("points > 0", name="points_positive"),
    UniqueConstraint("member_id", "request_id", name="uq_donations_request"),
    Index("ix_donations_member_cause", "member_id", "cause_id"),
)


# Which step of a multi-step chat (a typed donation amount, a time zone) a person is on.
ConversationStateRow = Table(
    "conversation_states",
    metadata,
    Column("telegram_id", BigInteger, primary_key=True),
    Column("step", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


PENDING = "state = 'pending'"


# A message for a member, written in the transaction that caused it, sent later.
#
# `state`: pending, sent (with Telegram's message id), blocked, failed (with the reason in
# `last_error`) or cancelled. A sender claims pending rows until `claimed_until`.
OutboxRow = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("template", String(64), nullable=False),
    Column("context", JSON, nullable=False),
    Column("dedupe_key", String(128), unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("failed_at", UTCDateTime()),
    Column("last_error", Text),
    Column(
        "state", String(16), default="pending", server_default=text("'pending'"), nullable=False
    ),
    Column("telegram_message_id", BigInteger),
    Column("next_attempt_at", UTCDateTime()),
    Column("claimed_by", String(64)),
    Column("claimed_until", UTCDateTime()),
    Column("broadcast_id", ForeignKey("broadcasts.id")),
    partial_index("ix_outbox_pending", "id", where=PENDING),
    Index("ix_outbox_broadcast", "broadcast_id", "state"),
)


# A merchant API token, stored only as its SHA-256 hash.
ApiTokenRow = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(64), unique=True, nullable=False),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("scopes", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)


# A receipt for a phone no member has yet, credited when someone shares that phone.
HeldPurchaseRow = Table(
    "held_purchases",
    metadata,
    Column("id", Id, primary_key=True),
    Column("merchant", String(64), nullable=False),
    Column("receipt_id", String(128), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("store", String(128)),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("held_at", UTCDateTime(), nullable=False),
    Column("credited_at", UTCDateTime()),
    UniqueConstraint("merchant", "receipt_id", name="uq_held_purchases_receipt"),
    Index("ix_held_purchases_phone", "phone"),
)


# One merchant action: who, when, what; written in the action's own transaction.
AuditRow = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_at", "at"),
)


# A cashier added by an admin; removing them keeps the row for the audit trail.
StaffRow = Table(
    "staff",
    metadata,
    Column("id", Id, primary_key=True),
    Column("telegram_id", BigInteger, unique=True, nullable=False),
    Column("name", String(128), nullable=False),
    Column("added_by", BigInteger, nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("removed_at", UTCDateTime()),
)


# A one-time staff invite: only the hash of its token is kept.
StaffInviteRow = Table(
    "staff_invites",
    metadata,
    Column("id", Id, primary_key=True),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_by", BigInteger),
    Column("used_at", UTCDateTime()),
)


# A nudge queued for a member: once per cause, and the latest one paces the next.
NudgeLogRow = Table(
    "nudge_log",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("cause_key", String(128), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    UniqueConstraint("member_id", "cause_key", name="uq_nudge_log_cause"),
)


# Surprise points given on one program-local day, kept within the daily budget.
SurpriseDayRow = Table(
    "surprise_days",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("granted", BigInteger, default=0, nullable=False),
    CheckConstraint("granted >= 0", name="granted_not_negative"),
)


# One member's surprise on one draw day (at most one), with its ledger transaction.
SurpriseRow = Table(
    "surprises",
    metadata,
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("points", BigInteger, nullable=False),
    Column("transaction_id", ForeignKey("point_transactions.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)


# A message to a segment of members: its content, its recipients are outbox rows.
BroadcastRow = Table(
    "broadcasts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("text", Text),
    Column("photo", String(2048)),  # a Telegram file_id or a URL
    Column("button_text", String(64)),
    Column("button_url", String(512)),
    Column("bonus_points", BigInteger),
    Column("reward_id", String(64)),
    Column("segment", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("status_chat_id", BigInteger),
    Column("status_message_id", BigInteger),
    Column("stop_reason", String(512)),  # Telegram refused it
)


# When the next send may go: key 'global' for the bot, 'chat:<member id>' per chat.
SendPacingRow = Table(
    "send_pacing",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("free_at", Double, nullable=False),
)


# A broadcast's bonus or voucher, claimed by one member: the key makes it once each.
BroadcastGiftRow = Table(
    "broadcast_gifts",
    metadata,
    Column("broadcast_id", ForeignKey("broadcasts.id"), primary_key=True),
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("claimed_at", UTCDateTime(), nullable=False),
)


# The status text last shown to the admin for a broadcast, so it is edited only on change.
BroadcastStatusRow = Table(
    "broadcast_status",
    metadata,
    Column("broadcast_id", ForeignKey("broadcasts.id"), primary_key=True),
    Column("locale", String(16), nullable=False),
    Column("shown", Text, nullable=False),
)


# A satisfaction survey asked of one member after one trigger (its outbox row goes
# with it); the latest paces the next, and `rewarded_at` pays its bonus once.
SurveySendRow = Table(
    "survey_sends",
    metadata,
    Column("id", Id, primary_key=True),
    Column("survey_id", String(24), nullable=False),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("reference", String(160), nullable=False),
    Column("store", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("rewarded_at", UTCDateTime()),
    UniqueConstraint("survey_id", "member_id", "reference", name="uq_survey_sends_trigger"),
    Index("ix_survey_sends_member", "member_id", "created_at"),
)


# One answer to one question of a survey sent: the first tap counts, once.
SurveyAnswerRow = Table(
    "survey_answers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("send_id", ForeignKey("survey_sends.id"), nullable=False),
    Column("question", String(8), nullable=False),
    Column("score", Integer, nullable=False),
    Column("answered_at", UTCDateTime(), nullable=False),
    UniqueConstraint("send_id", "question", name="uq_survey_answers_question"),
    Index("ix_survey_answers_time", "answered_at"),
)


# The free-text comment after a low score, one per survey sent, read by admins.
SurveyCommentRow = Table(
    "survey_comments",
    metadata,
    Column("send_id", ForeignKey("survey_sends.id"), primary_key=True),
    Column("question", String(8), nullable=False),
    Column("score", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_survey_comments_time", "created_at"),
)


# An action that earns, claimed by one member: the key makes it once per member (and
# per member-local year, `period`, for the birthday; '' for the others). A link that
# needs approval waits as `pending` until an admin's decision takes it, once.
ActionClaimRow = Table(
    "action_claims",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("action_id", String(24), nullable=False),
    Column("period", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("points", BigInteger, default=0, nullable=False),
    Column("transaction_id", ForeignKey("point_transactions.id")),
    Column("voucher_id", ForeignKey("vouchers.id")),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime()),
    Column("decided_by", String(128)),
    UniqueConstraint("member_id", "action_id", "period", name="uq_action_claims_once"),
    CheckConstraint("status IN ('pending', 'paid', 'rejected')", name="status_known"),
    Index("ix_action_claims_pending", "status", "claimed_at"),
)


# A member's birthday, day and month only (the year is none of our business); set
# once and changeable a year after `set_at`.
BirthdayRow = Table(
    "birthdays",
    metadata,
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("month", Integer, nullable=False),
    Column("day", Integer, nullable=False),
    Column("set_at", UTCDateTime(), nullable=False),
    CheckConstraint("month BETWEEN 1 AND 12", name="month_in_range"),
    CheckConstraint("day BETWEEN 1 AND 31", name="day_in_range"),
    Index("ix_birthdays_day", "month", "day"),
)


# A member who chose to appear by name on the leaderboard (everyone else is a masked
# code there).
LeaderboardNameRow = Table(
    "leaderboard_names",
    metadata,
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("chosen_at", UTCDateTime(), nullable=False),
)


# A member's stamp card: the stamps on the current card and how many cards they have
# filled (each filled card issued one voucher, keyed by that count).
StampCardRow = Table(
    "stamp_cards",
    metadata,
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("card_id", String(24), primary_key=True),
    Column("stamps", Integer, nullable=False),
    Column("filled", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("stamps >= 0", name="stamps_not_negative"),
    CheckConstraint("filled >= 0", name="filled_not_negative"),
)


# The cause a member rounds each purchase's points up for (no row: they do not).
RoundUpRow = Table(
    "round_ups",
    metadata,
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("cause_id", String(64), nullable=False),
    Column("chosen_at", UTCDateTime(), nullable=False),
)


# A one-time dashboard login link: only the hash of its token is kept; used once.
WebLoginRow = Table(
    "web_logins",
    metadata,
    Column("id", Id, primary_key=True),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("telegram_id", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
)


# A member who tapped "Join" on an opt-in challenge; a rolling window starts here.
ChallengeJoinRow = Table(
    "challenge_joins",
    metadata,
    Column("member_id", ForeignKey("members.id"), primary_key=True),
    Column("challenge_id", String(24), primary_key=True),
    Column("joined_at", UTCDateTime(), nullable=False),
)


# What a member was told and won in one window of a challenge: the key rewards the
# completion once, also when two purchases complete it at once.
ChallengeWindowRow = Table(
    "challenge_windows",
    metadata,
    Column("id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("challenge_id", String(24), nullable=False),
    Column("window_start", UTCDateTime(), nullable=False),
    Column("halfway_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("points", BigInteger, default=0, nullable=False),
    Column("transaction_id", ForeignKey("point_transactions.id")),
    Column("voucher_id", ForeignKey("vouchers.id")),
    UniqueConstraint("member_id", "challenge_id", "window_start", name="uq_challenge_windows"),
)


# A promotion with `announce = true` whose start was told to its members: the key makes
# every scheduler run after the first (or a second process) tell nobody again.
PromotionAnnouncementRow = Table(
    "promotion_announcements",
    metadata,
    Column("promotion_id", String(24), primary_key=True),
    Column("starts", String(16), primary_key=True),  # program-local, ISO
    Column("announced_at", UTCDateTime(), nullable=False),
    Column("members", Integer, default=0, nullable=False),
)


# What the dashboard shows of a period in a locale (JSON), and when it was computed.
KeptFiguresRow = Table(
    "kept_figures",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("computed_at", UTCDateTime(), nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_kept_figures_computed_at", "computed_at"),
)
