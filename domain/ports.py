"""What the domain needs from storage, as protocols; `storage` implements them.

A unit of work is entered once per use case: `async with uow:` opens one short
transaction that commits on a clean exit and rolls back on an exception.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from domain.broadcasts import Broadcast, BroadcastContent, BroadcastProgress
from domain.challenges import ChallengeReceipt
from domain.ledger import EntryKind, Lot
from domain.metrics import MetricFacts, Window
from domain.models import (
    ApiToken,
    AuditEntry,
    ChatState,
    ForgottenPerson,
    HeldPurchase,
    LedgerRecord,
    Member,
    NewMember,
    Notification,
    PurchaseRecord,
    Referral,
    RefundRecord,
    StaffMember,
    Voucher,
)
from domain.nudges import MemberFacts, Nudge
from domain.outbox import Outcome
from domain.receipts import MemberKey
from domain.segments import Segment
from domain.simulation import LedgerFacts, MemberRange, ReplayReceipt
from domain.surveys import NewSurveySend, SurveyComment, SurveySend
from domain.trends import WeekFacts, WeekWindow


@dataclass(frozen=True)
class Posting:
    """The who, why and when of one ledger transaction."""

    member_id: int
    kind: EntryKind
    at: datetime
    reason: str | None = None
    actor: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class NewNotification:
    """One outbox row to write: to whom, which template with what values, its dedupe key."""

    member_id: int
    template: str
    context: dict[str, object]
    dedupe_key: str | None = None
    due_at: datetime | None = None  # not sent before (None: at once)


@dataclass(frozen=True)
class Credit:
    """Points to add as a new lot: the posting, how many, and when they expire."""

    posting: Posting
    points: int
    expires_at: datetime


@dataclass(frozen=True)
class NewPurchase:
    """One purchase row to write: the record, its store and its lines as stored."""

    record: PurchaseRecord
    store: str | None
    lines: list[dict[str, str | int]]


@dataclass(frozen=True)
class Standing:
    """A member's tier, grace and first purchase as a run of receipts leaves them."""

    member_id: int
    tier: str
    tier_below_since: datetime | None
    first_purchase_at: datetime | None


@dataclass(frozen=True)
class MemberAccount:
    """A member with their balance and tier credits in a window, read (and locked) at once,
    and the cause they round purchases up for (None: they do not)."""

    member: Member
    balance: int
    tier_credits: int
    round_up: str | None = None


@dataclass(frozen=True)
class SeenReceipt:
    """A receipt id recorded before (with its answer and member) or held for a phone."""

    receipt_id: str
    body_hash: str
    answer: dict[str, object] | None  # None: held
    member_id: int | None
    phone: str | None  # the phone a held receipt waits for


@dataclass(frozen=True)
class Posted:
    """What a ledger posting wrote: its transaction, the lot it opened (credits only), the
    member's balance after it."""

    transaction_id: int
    lot_id: int | None
    balance: int


@dataclass(frozen=True)
class AccountFigures:
    """A member and their balance-screen numbers, read in one statement."""

    member: Member
    balance: int
    tier_credits: int  # in the window after `credits_since`
    expiring_points: int  # in open lots expiring by `expiring_by`
    expiring_first: datetime | None


@dataclass(frozen=True)
class Shelf:
    """What a member's view of the rewards hangs on, read in one statement: their balance,
    the vouchers issued so far per reward (stock counted), and how many of each they hold."""

    balance: int
    issued: Mapping[str, int]
    held: Mapping[str, int]


@dataclass(frozen=True)
class ActionClaim:
    """A member's claim of an action that earns: `pending` (a link awaiting approval),
    `paid` or `rejected`; `period` is the member-local year for the birthday, else ''."""

    id: int
    member_id: int
    action_id: str
    period: str
    status: str
    points: int
    claimed_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None


@dataclass(frozen=True)
class Birthday:
    """A member's birthday (day and month) and when they set it."""

    member_id: int
    month: int
    day: int
    set_at: datetime


@dataclass(frozen=True)
class BirthdayCandidate:
    """A member whose birthday may fall today somewhere: the date (in leap year 2000, so 29
    February fits), their own time zone (None: the program's) and when they joined."""

    member_id: int
    birthday: date
    timezone: str | None
    joined_at: datetime


@dataclass(frozen=True)
class Placing:
    """A member's place on the month's leaderboard; `name` only for members who chose to
    be named (None: show the masked code)."""

    rank: int
    member_id: int
    value: int
    code: str
    name: str | None


class MemberRepository(Protocol):
    """Members by their keys."""

    async def add(self, member: NewMember) -> Member: ...
    async def get(self, member_id: int) -> Member | None: ...
    async def lock(self, member_id: int) -> Member | None: ...
    async def by_telegram_id(self, telegram_id: int, lock: bool = False) -> Member | None: ...
    async def by_code(self, code: str, lock: bool = False) -> Member | None: ...
    async def named(self, keys: Collection[MemberKey]) -> Sequence[Member]: ...
    async def search(self, name: str, limit: int) -> Sequence[Member]: ...
    async def code_exists(self, code: str) -> bool: ...
    async def set_tier(self, member_id: int, tier: str, below_since: datetime | None) -> None: ...
    async def update_profile(self, member_id: int, **fields: object) -> None: ...
    async def erase(self, member_id: int, at: datetime) -> None: ...
    async def ids_above_tier(self, lowest_tier: str) -> Sequence[int]: ...
    async def advance(self, standings: Sequence[Standing]) -> None: ...
    async def forget_key(self) -> bytes | None: ...
    async def keep_forget_key(self, key: bytes, at: datetime) -> bytes: ...
    async def forgotten(self, telegram_hash: str) -> ForgottenPerson | None: ...
    async def remember_forgotten(self, person: ForgottenPerson) -> None: ...


class LedgerRepository(Protocol):
    """The points ledger: the only writer of balances."""

    async def balance(self, member_id: int) -> int: ...
    async def credit(self, posting: Posting, points: int, expires_at: datetime) -> Posted: ...
    async def debit(
        self, posting: Posting, points: int, prefer_lot_id: int | None = None
    ) -> Posted: ...
    async def open_lots(self, member_id: int) -> Sequence[Lot]: ...
    async def figures(
        self, member_id: int, credits_since: datetime, expiring_by: datetime
    ) -> AccountFigures | None: ...
    async def due_lots(self, now: datetime, limit: int) -> Sequence[tuple[int, Lot]]: ...
    async def expire_lot(self, posting: Posting, lot: Lot) -> int: ...
    async def history(self, member_id: int, limit: int, offset: int) -> Sequence[LedgerRecord]: ...
    async def count_transactions(self, member_id: int) -> int: ...
    async def lock_accounts(
        self, keys: Collection[MemberKey], credits_since: datetime
    ) -> Sequence[MemberAccount]: ...
    async def credit_many(self, credits: Sequence[Credit]) -> list[int]: ...


class TierCreditRepository(Protocol):
    """Tier credits, dated, so a rolling window can sum them."""

    async def add(self, member_id: int, credits: int, occurred_at: datetime) -> None: ...
    async def total_since(self, member_id: int, since: datetime) -> int: ...
    async def add_many(self, credits: Sequence[tuple[int, int, datetime]]) -> None: ...


class PurchaseRepository(Protocol):
    """Receipts and their refunds."""

    async def get(self, merchant: str, receipt_id: str) -> PurchaseRecord | None: ...
    async def seen(self, merchant: str, receipt_ids: Collection[str]) -> Sequence[SeenReceipt]: ...
    async def refund_by_id(self, merchant: str, refund_id: str) -> RefundRecord | None: ...
    async def add_refund(
        self, purchase: PurchaseRecord, refund: RefundRecord, merchant: str, actor: str | None
    ) -> int: ...
    async def hold(self, held: Sequence[HeldPurchase], at: datetime) -> None: ...
    async def held_for_phone(self, phone: str) -> Sequence[HeldPurchase]: ...
    async def mark_credited(self, held_ids: Sequence[int], at: datetime) -> None: ...
    async def add_many(self, purchases: Sequence[NewPurchase], recorded_at: datetime) -> None: ...


class ReferralRepository(Protocol):
    """Who invited whom and the milestones awarded."""

    async def add(self, referrer_id: int, invitee_id: int, at: datetime) -> None: ...
    async def pending_for_invitee(self, invitee_id: int) -> Referral | None: ...
    async def set_status(self, referral_id: int, status: str, at: datetime) -> None: ...
    async def rewarded_between(self, referrer_id: int, start: datetime, end: datetime) -> int: ...
    async def count(self, referrer_id: int, status: str | None = None) -> int: ...
    async def add_milestone(self, referrer_id: int, count: int, at: datetime) -> bool: ...


class RewardRepository(Protocol):
    """Reward stock and vouchers."""

    async def take_stock(self, reward_id: str, stock: int | None) -> bool: ...
    async def issued(self, reward_id: str) -> int: ...
    async def shelf(self, member_id: int) -> Shelf: ...
    async def add_voucher(self, voucher: Voucher) -> Voucher: ...
    async def voucher_by_code(self, code: str) -> Voucher | None: ...
    async def voucher_by_request(self, member_id: int, request_id: str) -> Voucher | None: ...
    async def count_vouchers(self, member_id: int, reward_id: str) -> int: ...
    async def member_vouchers(self, member_id: int) -> Sequence[Voucher]: ...
    async def mark_used(self, voucher_id: int, at: datetime, actor: str) -> bool: ...


class CauseRepository(Protocol):
    """Donations and each cause's running total."""

    async def add_donation(
        self,
        member_id: int,
        cause_id: str,
        points: int,
        transaction_id: int,
        at: datetime,
        request_id: str | None,
    ) -> None: ...
    async def donation_by_request(
        self, member_id: int, request_id: str
    ) -> tuple[str, int] | None: ...
    async def total(self, cause_id: str) -> int: ...
    async def member_total(self, member_id: int, cause_id: str) -> int: ...
    async def round_up_causes(self, member_ids: Collection[int]) -> Mapping[int, str]: ...
    async def set_round_up(self, member_id: int, cause_id: str | None, at: datetime) -> None: ...


class ConversationRepository(Protocol):
    """Where each person is in a multi-step chat."""

    async def get(self, telegram_id: int) -> ChatState | None: ...
    async def member_and_step(self, telegram_id: int) -> tuple[Member | None, ChatState | None]: ...
    async def put(self, telegram_id: int, state: ChatState) -> None: ...
    async def clear(self, telegram_id: int) -> None: ...
    async def take(self, telegram_id: int, step: str) -> ChatState | None: ...


class OutboxRepository(Protocol):
    """Notifications, written with the change that caused them and sent afterwards."""

    async def add(
        self,
        member_id: int,
        template: str,
        context: dict[str, object],
        at: datetime,
        dedupe_key: str | None = None,
        due_at: datetime | None = None,
    ) -> None: ...
    async def add_many(self, rows: Sequence[NewNotification], at: datetime) -> None: ...
    async def pending(self, limit: int) -> Sequence[Notification]: ...
    async def claim(
        self, worker: str, now: datetime, until: datetime, limit: int
    ) -> Sequence[Notification]: ...
    async def settle(self, worker: str, outcomes: Sequence[Outcome]) -> None: ...
    async def release(self, worker: str) -> int: ...
    async def renew(self, worker: str, ids: Collection[int], until: datetime) -> None: ...
    async def backlog(self) -> int: ...


class BroadcastRepository(Protocol):
    """Broadcasts and their recipients (outbox rows chosen by a segment, in the database)."""

    async def add(
        self, content: BroadcastContent, segment: Segment, created_by: str, at: datetime
    ) -> int: ...
    async def queue(self, broadcast_id: int, segment: Segment, at: datetime) -> int: ...
    async def count(self, segment: Segment, at: datetime) -> int: ...
    async def get(self, broadcast_id: int) -> Broadcast | None: ...
    async def recent(self, limit: int) -> Sequence[Broadcast]: ...
    async def progress(self, broadcast_id: int) -> BroadcastProgress | None: ...
    async def cancel(self, broadcast_id: int, at: datetime, reason: str | None) -> int: ...
    async def cancelled_among(self, broadcast_ids: Collection[int]) -> set[int]: ...
    async def finish(self, broadcast_ids: Sequence[int]) -> None: ...
    async def set_status_message(
        self, broadcast_id: int, chat_id: int, message_id: int
    ) -> None: ...


class ApiTokenRepository(Protocol):
    """Merchant API tokens by name and by hash."""

    async def add(
        self, name: str, token_hash: str, scopes: frozenset[str], at: datetime
    ) -> ApiToken: ...
    async def by_hash(self, token_hash: str) -> ApiToken | None: ...
    async def by_name(self, name: str) -> ApiToken | None: ...
    async def all(self) -> Sequence[ApiToken]: ...
    async def revoke(self, name: str, at: datetime) -> bool: ...


class AuditRepository(Protocol):
    """Who did what to the program, and when."""

    async def add(
        self, at: datetime, actor: str, action: str, details: dict[str, object]
    ) -> None: ...
    async def since(self, at: datetime | None, limit: int) -> Sequence[AuditEntry]: ...
    async def latest(self, limit: int) -> Sequence[AuditEntry]: ...


class StaffRepository(Protocol):
    """Cashiers added in chat, the one-time invites that add them, and admins' one-time
    dashboard login links."""

    async def get(self, telegram_id: int) -> StaffMember | None: ...
    async def active(self) -> Sequence[StaffMember]: ...
    async def put(self, member: StaffMember) -> None: ...
    async def remove(self, telegram_id: int, at: datetime) -> bool: ...
    async def add_invite(
        self, token_hash: str, created_by: int, at: datetime, expires_at: datetime
    ) -> None: ...
    async def take_invite(self, token_hash: str, telegram_id: int, at: datetime) -> int | None: ...
    async def add_login(
        self, token_hash: str, telegram_id: int, at: datetime, expires_at: datetime
    ) -> None: ...
    async def take_login(self, token_hash: str, at: datetime) -> int | None: ...


class NudgeRepository(Protocol):
    """What the nudge rules read in bulk, one range of member ids at a time, and the log."""

    async def last_member_id(self) -> int: ...
    async def facts(
        self,
        first_id: int,
        last_id: int,
        now: datetime,
        expiring_until: datetime,
        credits_since: datetime,
    ) -> list[MemberFacts]: ...
    async def favourite_categories(self, member_ids: Sequence[int]) -> dict[int, str]: ...
    async def record(self, nudges: Sequence[Nudge], at: datetime) -> set[int]: ...
    async def mark_invite_shown(self, member_id: int, at: datetime) -> None: ...


class SurpriseRepository(Protocol):
    """Who may be surprised, and each day's surprises within its budget."""

    async def eligible(self, since: datetime, min_purchases: int) -> list[int]: ...
    async def received(self, member_id: int, day: str) -> bool: ...
    async def take_budget(self, day: str, points: int, budget: int) -> bool: ...
    async def add(
        self, member_id: int, day: str, points: int, transaction_id: int, at: datetime
    ) -> None: ...


class GiftRepository(Protocol):
    """Broadcast gifts claimed once per member, and each status message's shown text."""

    async def claim(self, broadcast_id: int, member_id: int, at: datetime) -> bool: ...
    async def status_shown(self, broadcast_id: int) -> tuple[str, str] | None: ...
    async def show_status(self, broadcast_id: int, locale: str, text: str) -> None: ...


class MetricsRepository(Protocol):
    """The counts and sums behind the program metrics, aggregated in the database."""

    async def facts(self, window: Window) -> MetricFacts: ...
    async def kept(self, key: str) -> tuple[datetime, str] | None:
        """Figures kept under `key` and when they were computed (`keep`), if any."""

    async def keep(self, key: str, at: datetime, body: str) -> None:
        """Keep `body` under `key` unless what is kept there was computed after `at`."""

    async def forget_kept(self, before: datetime) -> int:
        """Drop figures computed before `before`; how many."""


ReplayCursor = tuple[int, datetime, int]  # member id, occurred_at, purchase id


@dataclass(frozen=True)
class ReplayPage:
    """A page of receipts for the simulator; `after` continues it (None: the last page)."""

    receipts: Sequence[ReplayReceipt]
    after: ReplayCursor | None


class ReplayRepository(Protocol):
    """Read-only reads for the program simulator."""

    async def read_only(self, snapshot: str | None = None) -> None: ...
    async def share_snapshot(self) -> str | None: ...
    async def receipts(
        self,
        since: datetime,
        until: datetime,
        after: ReplayCursor | None,
        limit: int,
        members: MemberRange | None = None,
    ) -> ReplayPage: ...
    async def facts(self, since: datetime, until: datetime) -> LedgerFacts: ...
    async def member_count(self) -> int: ...
    async def member_span(self) -> MemberRange | None: ...


class TrendRepository(Protocol):
    """Weekly counts and sums behind the charts, aggregated in the database."""

    async def weekly(self, weeks: Sequence[WeekWindow]) -> list[WeekFacts]: ...


class SurveyRepository(Protocol):
    """Surveys asked, their answers and comments, and the counts the figures come from."""

    async def last_asked(self, member_id: int) -> datetime | None: ...
    async def add_send(self, send: NewSurveySend) -> int | None: ...
    async def receipt_store(self, merchant: str, receipt_id: str) -> str | None: ...
    async def send(self, send_id: int, lock: bool = False) -> SurveySend | None: ...
    async def add_answer(self, send_id: int, question: str, score: int, at: datetime) -> bool: ...
    async def answers(self, send_id: int) -> dict[str, int]: ...
    async def mark_rewarded(self, send_id: int, at: datetime) -> bool: ...
    async def add_comment(
        self, send_id: int, question: str, score: int, comment: str, at: datetime
    ) -> bool: ...
    async def comments(self, limit: int) -> Sequence[SurveyComment]: ...
    async def counts(
        self, since: datetime, until: datetime
    ) -> Sequence[tuple[str | None, str, int, int]]: ...
    async def cancel_pending(self, member_id: int, template: str, at: datetime) -> int: ...
    async def erase_comments(self, member_id: int) -> int: ...


class ActionClaimRepository(Protocol):
    """Actions claimed once per member (and year), and the decisions on pending claims."""

    async def add(
        self, member_id: int, action_id: str, period: str, status: str, at: datetime
    ) -> int | None: ...
    async def get(self, claim_id: int) -> ActionClaim | None: ...
    async def of_member(self, member_id: int) -> Sequence[ActionClaim]: ...
    async def decide(self, claim_id: int, status: str, at: datetime, by: str) -> bool: ...
    async def settle(
        self, claim_id: int, points: int, transaction_id: int | None, voucher_id: int | None
    ) -> None: ...
    async def pending(self, limit: int) -> Sequence[ActionClaim]: ...


@dataclass(frozen=True)
class ChallengeJoin:
    """A member who joined an opt-in challenge, and when (a rolling window starts there)."""

    member_id: int
    challenge_id: str
    joined_at: datetime


@dataclass(frozen=True)
class ChallengeMark:
    """What a member was told in one window of a challenge: halfway and/or completed."""

    member_id: int
    challenge_id: str
    window_start: datetime
    halfway_at: datetime | None
    completed_at: datetime | None


class ChallengeRepository(Protocol):
    """Challenge joins and windows, and what progress is counted from, for the members
    `first_id`..`last_id` (one member: the same id twice), or only those `among` them."""

    async def join(
        self, member_id: int, challenge_id: str, at: datetime, rejoin_before: datetime | None
    ) -> bool: ...
    async def joins(
        self, first_id: int, last_id: int, *, among: Collection[int] | None = None
    ) -> Sequence[ChallengeJoin]: ...
    async def marks(
        self, first_id: int, last_id: int, *, among: Collection[int] | None = None
    ) -> Sequence[ChallengeMark]: ...
    async def receipts(
        self,
        first_id: int,
        last_id: int,
        since: datetime,
        until: datetime,
        *,
        among: Collection[int] | None = None,
    ) -> Sequence[tuple[int, ChallengeReceipt]]: ...
    async def friends(
        self,
        first_id: int,
        last_id: int,
        since: datetime,
        until: datetime,
        *,
        among: Collection[int] | None = None,
    ) -> Sequence[tuple[int, datetime]]: ...
    async def mark_halfway(
        self, member_id: int, challenge_id: str, window_start: datetime, at: datetime
    ) -> bool: ...
    async def complete(
        self, member_id: int, challenge_id: str, window_start: datetime, at: datetime
    ) -> bool: ...
    async def settle(
        self,
        member_id: int,
        challenge_id: str,
        window_start: datetime,
        points: int,
        transaction_id: int | None,
        voucher_id: int | None,
    ) -> None: ...


class BirthdayRepository(Protocol):
    """Members' birthdays, and who may be due a birthday action."""

    async def get(self, member_id: int) -> Birthday | None: ...
    async def put(
        self, member_id: int, month: int, day: int, at: datetime, set_before: datetime
    ) -> bool: ...
    async def due(
        self, action_id: str, days: Collection[tuple[int, int, int]]
    ) -> Sequence[BirthdayCandidate]: ...
    async def erase(self, member_id: int) -> None: ...


class LeaderboardRepository(Protocol):
    """The month's ranking, aggregated in the database, and who chose to be named on it."""

    async def is_named(self, member_id: int) -> bool: ...
    async def set_named(self, member_id: int, named: bool, at: datetime) -> None: ...
    async def by_points(
        self, kinds: Collection[str], since: datetime, until: datetime, size: int, member_id: int
    ) -> Sequence[Placing]: ...
    async def by_purchases(
        self, since: datetime, until: datetime, size: int, member_id: int
    ) -> Sequence[Placing]: ...


@dataclass(frozen=True)
class StampState:
    """A member's stamp card: the stamps on the current card and the cards filled so far."""

    member_id: int
    card_id: str
    stamps: int
    filled: int


class StampRepository(Protocol):
    """Members' stamp cards."""

    async def cards(self, member_ids: Collection[int]) -> Sequence[StampState]: ...
    async def put_many(self, states: Sequence[StampState], at: datetime) -> None: ...
    async def take_back(self, member_id: int, card_id: str, stamps: int, at: datetime) -> None: ...


@dataclass(frozen=True)
class Listener:
    """A member who may be told of a promotion, and their own time zone (None: the program's)."""

    member_id: int
    timezone: str | None


class PromotionRepository(Protocol):
    """Promotion announcements, told once per promotion, and who hears them."""

    async def claim_announcement(self, promotion_id: str, starts: str, at: datetime) -> bool: ...
    async def set_told(self, promotion_id: str, starts: str, members: int) -> None: ...
    async def listeners(self, tiers: Collection[str]) -> Sequence[Listener]: ...


class UnitOfWork(Protocol):
    """One transaction over every repository."""

    @property
    def members(self) -> MemberRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def tier_credits(self) -> TierCreditRepository: ...
    @property
    def purchases(self) -> PurchaseRepository: ...
    @property
    def referrals(self) -> ReferralRepository: ...
    @property
    def rewards(self) -> RewardRepository: ...
    @property
    def causes(self) -> CauseRepository: ...
    @property
    def conversations(self) -> ConversationRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def api_tokens(self) -> ApiTokenRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def nudges(self) -> NudgeRepository: ...
    @property
    def surprises(self) -> SurpriseRepository: ...
    @property
    def staff(self) -> StaffRepository: ...
    @property
    def gifts(self) -> GiftRepository: ...
    @property
    def broadcasts(self) -> BroadcastRepository: ...
    @property
    def surveys(self) -> SurveyRepository: ...
    @property
    def replay(self) -> ReplayRepository: ...
    @property
    def trends(self) -> TrendRepository: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def action_claims(self) -> ActionClaimRepository: ...
    @property
    def challenges(self) -> ChallengeRepository: ...
    @property
    def birthdays(self) -> BirthdayRepository: ...
    @property
    def leaderboard(self) -> LeaderboardRepository: ...
    @property
    def stamps(self) -> StampRepository: ...
    @property
    def promotions(self) -> PromotionRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
