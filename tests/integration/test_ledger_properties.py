"""A stateful property test: random sequences of every use case against an independent model.

The machine joins people (some through a friend's code), records receipts (and retries
them), refunds them in part or whole, redeems rewards and uses vouchers, donates, adjusts
points by hand, forgets members and moves a clock forward, running the expiry and tier
review jobs at each new time. Domain refusals are expected outcomes: the model predicts
each one. After every step it checks, from the database:

* `check_invariants` finds no drift, and no balance is negative;
* each balance, and each member's open lots (remaining, expiry), equal the model's, which
  is built only from the program's numbers and what the operations answered;
* each remembered member's tier agrees with the tier credits in the rolling window under
  the grace rule.

Runs on SQLite and PostgreSQL, each example on a database of its own. More examples:
LEDGER_MACHINE_EXAMPLES=500 LEDGER_MACHINE_STEPS=60 pytest tests/integration/...
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import floor
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text

from domain.earning import PurchaseLine
from domain.errors import (
    Conflict,
    InsufficientPoints,
    LoyaltyError,
    NotFound,
    RefundExceedsReceipt,
    RewardUnavailable,
    VoucherUnusable,
)
from domain.ledger import add_months
from domain.program import Program
from domain.program_file import default_program_path, load_program
from domain.services.donations import donate
from domain.services.members import forget, join
from domain.services.points import adjust_points, expire_due_points
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase, refund_purchase
from domain.services.referrals import ReferralReward
from domain.services.rewards import redeem_reward, use_voucher
from domain.services.tiering import review_tiers, tier_credits
from storage.checks import check_invariants
from storage.database import Database
from storage.tables import MemberRow, TransactionRow, metadata
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW

MERCHANT = "main"
CATEGORIES = ("shoes", "coffee", "gift-cards", "other")
ROUNDING = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}
CENT = Decimal("0.01")
BASE_PROGRAM = load_program(default_program_path())
ZONE = ZoneInfo(BASE_PROGRAM.info.timezone)
GRACE_DAYS = BASE_PROGRAM.tiers.grace_days

SETTINGS = settings(
    max_examples=int(os.environ.get("LEDGER_MACHINE_EXAMPLES", "25")),
    stateful_step_count=int(os.environ.get("LEDGER_MACHINE_STEPS", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

T = TypeVar("T")


def _line(category: str, quantity: int, dollars: int, cents: int, beans: bool) -> PurchaseLine:
    sku = "BEANS-1KG" if beans else f"SKU-{category.upper()}"
    price = min(dollars * 100 + cents, 30_000)  # 0.00..300.00
    return PurchaseLine(sku, category, quantity, Decimal(price).scaleb(-2))


REFS = st.sampled_from(["member_code", "member_code", "telegram_id"])  # how a till names them
BACK_DAYS = st.none() | st.integers(0, 400)  # a receipt the till sends late
# dollars and cents drawn apart: hypothesis draws small ranges about evenly, but a wide one
# like 0..30000 mostly small, and receipts must be big enough to move tiers
LINES = st.lists(
    st.builds(
        _line,
        st.sampled_from(CATEGORIES),
        st.integers(1, 3),
        st.integers(0, 300),
        st.integers(0, 99),
        st.booleans(),
    ),
    min_size=1,
    max_size=4,
)


@dataclass
class LotModel:
    """A lot as the model sees it; `seq` orders lots the way ids do in the database."""

    seq: int
    remaining: int
    expires_at: datetime


@dataclass
class MemberModel:
    """What the model expects of one member."""

    id: int
    telegram_id: int
    code: str  # kept after forgetting: the stale code a till might still send
    referrer_id: int | None
    joined_at: datetime
    balance: int = 0
    lots: list[LotModel] = field(default_factory=list)
    credits: list[tuple[datetime, int]] = field(default_factory=list)
    forgotten: bool = False
    purchased: bool = False
    referral_status: str | None = None  # as an invitee: pending, rewarded, capped, void
    rewarded_at: list[datetime] = field(default_factory=list)  # as a referrer
    milestones: set[int] = field(default_factory=set)
    vouchers: Counter[str] = field(default_factory=Counter)
    donated: Counter[str] = field(default_factory=Counter)


@dataclass
class ReceiptModel:
    """A recorded receipt and what is left of it."""

    receipt_id: str
    member_id: int
    ref: MemberRef
    sent_occurred_at: datetime | None  # what the till sent, part of the body
    lines: list[PurchaseLine]
    total: Decimal
    points: int
    credits: int
    occurred_at: datetime
    lot_seq: int | None
    answer: dict[str, object]
    refunded: Decimal = Decimal(0)


@dataclass
class RefundModel:
    """A refund made with a refund id, so it can be retried."""

    refund_id: str
    receipt_id: str
    amount: Decimal
    record: Any


@dataclass
class VoucherModel:
    """An issued voucher."""

    code: str
    member_id: int
    reward_id: str
    request_id: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class DonationModel:
    """A donation made with a request id, so it can be retried."""

    request_id: str
    member_id: int
    cause_id: str
    points: int


class LedgerMachine(RuleBasedStateMachine):
    """Drives the services on one database and checks them against a model."""

    postgres_url: ClassVar[str | None] = None  # None: a fresh SQLite file per example

    members = Bundle("members")
    receipts = Bundle("receipts")
    refunds = Bundle("refunds")
    vouchers = Bundle("vouchers")
    donations = Bundle("donations")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmpdir: str | None = None
        self.database = self.run(self._fresh_database())
        self.uow = SqlUnitOfWork(self.database)
        self.program: Program = BASE_PROGRAM
        self.now = NOW
        self.model: dict[int, MemberModel] = {}
        self.receipt_models: dict[str, ReceiptModel] = {}
        self.refund_models: dict[str, RefundModel] = {}
        self.voucher_models: dict[str, VoucherModel] = {}
        self.donation_models: dict[str, DonationModel] = {}
        self.issued: Counter[str] = Counter()
        self.cause_totals: Counter[str] = Counter()
        self.tiers_seen: dict[int, str] = {}
        self.below_since_seen: dict[int, datetime] = {}
        self.tiers_reported: dict[int, str] = {}
        self.serial = 0
        self.lot_seq = 0
        self.friends_before: Counter[int] = Counter()  # qualified friends of forgotten
        # accounts, by Telegram id

    # -- plumbing -------------------------------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def expect(self, error: type[LoyaltyError], coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a call the model says must be refused with `error`; return the error."""
        with pytest.raises(error) as refused:
            self.run(coroutine)
        event(f"refused: {error.__name__}")
        return refused.value

    async def _fresh_database(self) -> Database:
        if self.postgres_url is not None:
            database = Database(self.postgres_url)
            tables = ", ".join(t.name for t in metadata.sorted_tables)
            async with database.writer.begin() as conn:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return database
        self.tmpdir = tempfile.mkdtemp(prefix="ledger-machine-")
        database = Database(f"sqlite+aiosqlite:///{self.tmpdir}/loyalty.db")
        async with database.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
        return database

    def teardown(self) -> None:
        try:
            self.run(self.database.dispose())
        finally:
            self.loop.close()
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    # -- the model's ledger ---------------------------------------------------------------

    def credit(self, member: MemberModel, points: int, at: datetime | None = None) -> int:
        """A new lot of `points` earned `at` (now by default); returns its sequence number."""
        assert points > 0
        self.lot_seq += 1
        member.lots.append(
            LotModel(self.lot_seq, points, add_months(at or self.now, self.program.expiry.months))
        )
        member.balance += points
        return self.lot_seq

    @staticmethod
    def debit(member: MemberModel, points: int, prefer: int | None = None) -> None:
        """Take points: the preferred lot first, then soonest expiry, then oldest."""
        assert 0 < points <= member.balance
        member.balance -= points
        left = points
        for lot in sorted(
            (lot for lot in member.lots if lot.remaining > 0),
            key=lambda lot: (lot.seq != prefer, lot.expires_at, lot.seq),
        ):
            take = min(lot.remaining, left)
            lot.remaining -= take
            left -= take
        assert left == 0, "model lots do not cover the model balance"

    def window_credits(self, member: MemberModel) -> int:
        since = self.now - timedelta(days=self.program.tiers.window_days)
        return sum(credits for at, credits in member.credits if at > since)

    def qualify(
        self, invitee: MemberModel, happened: datetime | None = None
    ) -> ReferralReward | None:
        """The model of a referral qualifying now, on the day of `happened` (the first
        purchase, never before the invitee joined)."""
        if invitee.referral_status != "pending":
            return None
        assert invitee.referrer_id is not None
        referrer, rules = self.model[invitee.referrer_id], self.program.referrals
        if referrer.forgotten:
            invitee.referral_status = "void"
            return None
        at = max(happened or self.now, invitee.joined_at)
        day = at.astimezone(ZONE).date()
        if (
            sum(when.astimezone(ZONE).date() == day for when in referrer.rewarded_at)
            >= rules.daily_cap
        ):
            invitee.referral_status = "capped"
            event("referral capped")
            return ReferralReward(referrer.id, "capped", 0, ())
        invitee.referral_status = "rewarded"
        referrer.rewarded_at.append(at)
        if rules.referrer_bonus:
            self.credit(referrer, rules.referrer_bonus)
        bonuses = []
        before = self.friends_before[referrer.telegram_id]
        for milestone in rules.milestones:
            if (
                before < milestone.count <= before + len(referrer.rewarded_at)
                and milestone.count not in referrer.milestones
            ):
                referrer.milestones.add(milestone.count)
                bonuses.append(milestone.bonus)
                event("referral milestone")
                if milestone.bonus:
                    self.credit(referrer, milestone.bonus)
        event("referral rewarded")
        return ReferralReward(referrer.id, "rewarded", rules.referrer_bonus, tuple(bonuses))

    def expected_earning(self, lines: list[PurchaseLine], tier_name: str) -> tuple[int, int]:
        """Points and tier credits of a receipt, from the program's numbers alone."""
        rules = self.program.earning
        multipliers = {c.category: c.multiplier for c in rules.categories}
        items = {i.sku: i.points for i in rules.items}
        earning = [ln for ln in lines if multipliers.get(ln.category, Decimal(1)) > 0]
        base = Decimal(rules.per_visit if earning else 0)  # lines at 0 earn no visit
        earning_spend = Decimal(0)
        for ln in earning:
            multiplier = multipliers.get(ln.category, Decimal(1))
            base += ln.unit_price * ln.quantity * rules.points_per_unit * multiplier
            base += items.get(ln.sku, 0) * ln.quantity
            earning_spend += ln.unit_price * ln.quantity
        tier = next(t for t in self.program.tiers.levels if t.name == tier_name)
        points = int((base * tier.multiplier).quantize(Decimal(1), ROUNDING[rules.rounding]))
        return points, floor(Fraction(earning_spend) * Fraction(rules.tier_credits_per_unit))

    def active_by_telegram(self, telegram_id: int) -> MemberModel | None:
        return next(
            (m for m in self.model.values() if m.telegram_id == telegram_id and not m.forgotten),
            None,
        )

    # -- joining --------------------------------------------------------------------------

    def do_join(self, telegram_id: int, code: str | None) -> Any:
        result = self.run(
            join(
                self.uow,
                self.program,
                telegram_id=telegram_id,
                first_name=f"User{telegram_id}",
                language_code="en",
                now=self.now,
                referral_code=code,
            )
        )
        existing = self.active_by_telegram(telegram_id)
        if existing is not None:
            assert not result.created
            assert result.member.id == existing.id
            assert result.bonus == 0
            expected = (
                None
                if code is None
                else ("own_code" if code == existing.code else "already_member")
            )
            assert result.referral == expected
            event("join: already a member")
            return multiple()
        assert result.created
        assert result.member.id not in self.model
        assert result.member.code is not None
        returning = any(m.telegram_id == telegram_id for m in self.model.values())
        assert result.returning == returning
        found = None
        if code is not None:
            found = next(
                (m for m in self.model.values() if m.code == code and not m.forgotten), None
            )
        referrer = None if returning else found  # no invite counts for a returning person
        member = MemberModel(
            result.member.id,
            telegram_id,
            result.member.code,
            referrer.id if referrer else None,
            self.now,
        )
        self.model[member.id] = member
        self.tiers_seen[member.id] = self.program.tiers.levels[0].name
        assert result.referral == (
            None
            if code is None
            else "unknown_code"
            if found is None
            else "returning"
            if returning
            else "attributed"
        )
        assert result.member.referrer_id == member.referrer_id
        bonus = 0 if returning else self.program.info.signup_bonus
        if bonus:
            self.credit(member, bonus)
        reward = None
        if referrer is not None:
            member.referral_status = "pending"
            invitee_bonus = self.program.referrals.invitee_bonus
            if invitee_bonus:
                self.credit(member, invitee_bonus)
                bonus += invitee_bonus
            if self.program.referrals.qualify_on == "join":
                reward = self.qualify(member)
        assert result.bonus == bonus
        assert result.referrer_reward == reward
        event(f"join: {result.referral or 'plain'}" + (", returning" if returning else ""))
        return multiple(member.id)

    @initialize(
        target=members,
        qualify_on=st.sampled_from(["first_purchase", "join"]),
        daily_cap=st.sampled_from([1, 2, 10]),
        rounding=st.sampled_from(["floor", "round", "ceil"]),
    )
    def start(self, qualify_on: str, daily_cap: int, rounding: str) -> Any:
        """Vary the referral and rounding rules a little, then join a first member."""
        self.program = replace(
            BASE_PROGRAM,
            referrals=replace(BASE_PROGRAM.referrals, qualify_on=qualify_on, daily_cap=daily_cap),
            earning=replace(BASE_PROGRAM.earning, rounding=rounding),
        )
        self.serial += 1
        return self.do_join(self.serial, None)

    @rule(
        target=members,
        member=members,
        other=members,
        how=st.sampled_from(
            ["fresh", "fresh", "referred", "again", "again own code", "again other code"]
        ),
    )
    def join_someone(self, member: int, other: int, how: str) -> Any:
        """A new person joins, alone or with `member`'s code (unknown once `member` was
        forgotten), or `member`'s Telegram account sends /start again (a new member once
        forgotten, with no bonus and no referrer), with no code, their own or `other`'s."""
        if how in ("fresh", "referred"):
            self.serial += 1
            return self.do_join(self.serial, self.model[member].code if how == "referred" else None)
        codes = {
            "again": None,
            "again own code": self.model[member].code,
            "again other code": self.model[other].code,
        }
        return self.do_join(self.model[member].telegram_id, codes[how])

    # -- receipts -------------------------------------------------------------------------

    @rule(target=receipts, member=members, lines=LINES, by=REFS, back_days=BACK_DAYS)
    def purchase_more(
        self, member: int, lines: list[PurchaseLine], by: str, back_days: int | None
    ) -> Any:
        """The same as purchase: receipts are the heart of it, so they come twice as often."""
        return self.purchase(member, lines, by, back_days)

    @rule(target=receipts, member=members, lines=LINES, by=REFS, back_days=BACK_DAYS)
    def purchase(
        self, member: int, lines: list[PurchaseLine], by: str, back_days: int | None
    ) -> Any:
        """A till sends a receipt naming `member` by code or Telegram id (which, once they
        were forgotten, names whoever joined again from that account), maybe backdated."""
        m = self.model[member]
        ref = (
            MemberRef("member_code", m.code)
            if by == "member_code"
            else MemberRef("telegram_id", str(m.telegram_id))
        )
        occurred_at = None if back_days is None else self.now - timedelta(days=back_days)
        receipt_id = self.next_id("R")
        call = record_purchase(
            self.uow, self.program, ReceiptIn(receipt_id, ref, lines, occurred_at), now=self.now
        )
        buyer = (
            self.active_by_telegram(m.telegram_id)
            if by == "telegram_id"
            else (None if m.forgotten else m)
        )
        if buyer is None:
            self.expect(NotFound, call)
            return multiple()
        outcome = self.run(call)
        tier_before = self.tiers_seen[buyer.id]
        points, credits = self.expected_earning(lines, tier_before)
        happened = occurred_at or self.now
        if add_months(happened, self.program.expiry.months) <= self.now:
            points = 0  # its points would have expired already: none to spend
            event("purchase too old to earn")
        assert not outcome.replayed
        assert outcome.member_id == buyer.id
        assert outcome.tier_before == tier_before
        assert outcome.points == points
        assert outcome.answer["tier_credits"] == credits
        assert outcome.answer["member_code"] == buyer.code
        lot_seq = self.credit(buyer, points, happened) if points > 0 else None
        if credits:
            buyer.credits.append((occurred_at or self.now, credits))
        reward = None
        if not buyer.purchased:
            buyer.purchased = True
            if self.program.referrals.qualify_on == "first_purchase":
                reward = self.qualify(buyer, happened)
        assert outcome.referral_reward == reward
        assert outcome.answer["balance"] == buyer.balance
        self.tiers_reported[buyer.id] = outcome.tier
        if outcome.tier != tier_before:
            event(f"purchase moved tier {tier_before} -> {outcome.tier}")
        total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
        self.receipt_models[receipt_id] = ReceiptModel(
            receipt_id,
            buyer.id,
            ref,
            occurred_at,
            list(lines),
            total,
            points,
            credits,
            occurred_at or self.now,
            lot_seq,
            outcome.answer,
        )
        event(
            "purchase recorded"
            + (" by telegram id" if by == "telegram_id" else "")
            + (", backdated" if back_days else "")
        )
        return receipt_id

    @rule(receipt=receipts, same_body=st.booleans())
    def retry_receipt(self, receipt: str, same_body: bool) -> None:
        """A till sends a receipt again: the same body replays, another one conflicts."""
        r = self.receipt_models[receipt]
        lines = list(r.lines)
        if not same_body:
            lines[0] = replace(lines[0], quantity=lines[0].quantity + 1)
        call = record_purchase(
            self.uow,
            self.program,
            ReceiptIn(receipt, r.ref, lines, r.sent_occurred_at),
            now=self.now,
        )
        if not same_body:
            self.expect(Conflict, call)
            return
        outcome = self.run(call)
        assert outcome.replayed
        assert outcome.member_id == r.member_id
        assert outcome.answer == r.answer
        event("purchase replayed")

    @rule(
        target=refunds,
        receipt=receipts,
        mode=st.sampled_from(["partial", "full", "exceed"]),
        percent=st.integers(1, 99),
        extra_cents=st.integers(1, 5_000),
        with_id=st.booleans(),
    )
    def refund_more(
        self, receipt: str, mode: str, percent: int, extra_cents: int, with_id: bool
    ) -> Any:
        """The same as refund, twice as often: clawbacks are where ledgers go wrong."""
        return self.refund(receipt, mode, percent, extra_cents, with_id)

    @rule(
        target=refunds,
        receipt=receipts,
        mode=st.sampled_from(["partial", "full", "exceed"]),
        percent=st.integers(1, 99),
        extra_cents=st.integers(1, 5_000),
        with_id=st.booleans(),
    )
    def refund(self, receipt: str, mode: str, percent: int, extra_cents: int, with_id: bool) -> Any:
        r = self.receipt_models[receipt]
        left = r.total - r.refunded
        if mode == "partial":
            amount = max((left * percent / 100).quantize(CENT, ROUND_DOWN), CENT)
        elif mode == "full":
            amount = max(left, CENT)
        else:
            amount = left + Decimal(extra_cents).scaleb(-2)
        refund_id = self.next_id("F") if with_id else None
        call = refund_purchase(
            self.uow,
            self.program,
            merchant=MERCHANT,
            receipt_id=receipt,
            amount=amount,
            now=self.now,
            refund_id=refund_id,
            actor="till:1",
        )
        if r.refunded + amount > r.total:
            self.expect(RefundExceedsReceipt, call)
            return multiple()
        outcome = self.run(call)
        m = self.model[r.member_id]

        def due(awarded: int, refunded: Decimal) -> int:
            return floor(Fraction(awarded) * Fraction(refunded) / Fraction(r.total))

        after = r.refunded + amount
        points_due = due(r.points, after) - due(r.points, r.refunded)
        credits_due = due(r.credits, after) - due(r.credits, r.refunded)
        taken = min(points_due, m.balance)
        if taken:
            self.debit(m, taken, prefer=r.lot_seq)
        if credits_due:
            m.credits.append((r.occurred_at, -credits_due))
        r.refunded = after
        assert not outcome.replayed
        assert outcome.refund.amount == amount
        assert outcome.refund.points_clawed == taken
        assert outcome.refund.points_shortfall == points_due - taken
        assert outcome.refund.credits_clawed == credits_due
        assert outcome.balance == m.balance
        assert outcome.refunded_total == after
        assert outcome.receipt_total == r.total
        if not m.forgotten:
            self.tiers_reported[m.id] = outcome.tier
        event(f"refund {mode}" + (" with shortfall" if taken < points_due else ""))
        if refund_id is None:
            return multiple()
        self.refund_models[refund_id] = RefundModel(refund_id, receipt, amount, outcome.refund)
        return refund_id

    @rule(refund=refunds, same_amount=st.booleans())
    def retry_refund(self, refund: str, same_amount: bool) -> None:
        f = self.refund_models[refund]
        r = self.receipt_models[f.receipt_id]
        amount = f.amount if same_amount else f.amount + CENT
        call = refund_purchase(
            self.uow,
            self.program,
            merchant=MERCHANT,
            receipt_id=f.receipt_id,
            amount=amount,
            now=self.now,
            refund_id=refund,
            actor="till:1",
        )
        if not same_amount:
            self.expect(Conflict, call)
            return
        outcome = self.run(call)
        assert outcome.replayed
        # the first answer carries the record before it was stored (id 0): compare the rest
        assert replace(outcome.refund, id=0) == replace(f.record, id=0)
        assert outcome.balance == self.model[r.member_id].balance
        assert outcome.refunded_total == r.refunded
        event("refund replayed")

    # -- spending -------------------------------------------------------------------------

    @rule(
        target=vouchers,
        member=members,
        reward_id=st.sampled_from(["coffee", "tote", "off10"]),
        with_request=st.booleans(),
    )
    def redeem(self, member: int, reward_id: str, with_request: bool) -> Any:
        m = self.model[member]
        reward = self.program.reward(reward_id)
        assert reward is not None
        request_id = self.next_id("Q") if with_request else None
        call = redeem_reward(
            self.uow,
            self.program,
            member_id=member,
            reward_id=reward_id,
            now=self.now,
            request_id=request_id,
        )
        tiers = self.program.tiers
        if m.forgotten:
            self.expect(NotFound, call)
        elif reward.min_tier and (
            tiers.rank(self.tiers_seen[member]) < tiers.rank(reward.min_tier)
        ):
            assert self.expect(RewardUnavailable, call).reason == "min_tier"
        elif reward.per_member_limit and m.vouchers[reward_id] >= reward.per_member_limit:
            assert self.expect(RewardUnavailable, call).reason == "limit"
        elif m.balance < reward.cost:
            refused = self.expect(InsufficientPoints, call)
            assert (refused.needed, refused.available) == (reward.cost, m.balance)
        elif reward.stock is not None and self.issued[reward_id] >= reward.stock:
            assert self.expect(RewardUnavailable, call).reason == "out_of_stock"
        else:
            redemption = self.run(call)
            self.debit(m, reward.cost)
            m.vouchers[reward_id] += 1
            self.issued[reward_id] += 1
            voucher = redemption.voucher
            assert not redemption.replayed
            assert redemption.balance == m.balance
            assert (voucher.member_id, voucher.reward_id, voucher.cost) == (
                member,
                reward_id,
                reward.cost,
            )
            assert voucher.expires_at == self.now + timedelta(days=reward.valid_days)
            self.voucher_models[voucher.code] = VoucherModel(
                voucher.code, member, reward_id, request_id, voucher.expires_at
            )
            event(f"redeemed {reward_id}")
            return voucher.code
        return multiple()

    @rule(voucher=vouchers, use=st.booleans())
    def voucher_again(self, voucher: str, use: bool) -> None:
        """Use a voucher at the till, or press redeem again with its request id."""
        if use:
            self.use_voucher(voucher)
            return
        v = self.voucher_models[voucher]
        if v.request_id is None:
            return
        m = self.model[v.member_id]
        call = redeem_reward(
            self.uow,
            self.program,
            member_id=v.member_id,
            reward_id=v.reward_id,
            now=self.now,
            request_id=v.request_id,
        )
        if m.forgotten:
            self.expect(NotFound, call)
            return
        redemption = self.run(call)
        assert redemption.replayed
        assert redemption.voucher.code == voucher
        assert redemption.balance == m.balance
        event("redemption replayed")

    def use_voucher(self, voucher: str) -> None:
        v = self.voucher_models[voucher]
        call = use_voucher(self.uow, code=voucher, actor="till:1", now=self.now)
        state = "used" if v.used else "expired" if self.now >= v.expires_at else "active"
        if state != "active":
            assert self.expect(VoucherUnusable, call).reason == state
            return
        used = self.run(call)
        v.used = True
        assert used.used_at == self.now
        event("voucher used")

    @rule(
        target=donations,
        member=members,
        cause_id=st.sampled_from(["trees", "meals"]),
        over=st.booleans(),
        percent=st.integers(1, 100),
        extra=st.integers(1, 100),
        with_request=st.booleans(),
    )
    def donate(
        self, member: int, cause_id: str, over: bool, percent: int, extra: int, with_request: bool
    ) -> Any:
        m = self.model[member]
        points = m.balance + extra if over else max(m.balance * percent // 100, 1)
        request_id = self.next_id("D") if with_request else None
        call = donate(
            self.uow,
            self.program,
            member_id=member,
            cause_id=cause_id,
            points=points,
            now=self.now,
            request_id=request_id,
        )
        if m.forgotten:
            self.expect(NotFound, call)
            return multiple()
        if points > m.balance:
            self.expect(InsufficientPoints, call)
            return multiple()
        outcome = self.run(call)
        self.debit(m, points)
        m.donated[cause_id] += points
        self.cause_totals[cause_id] += points
        assert not outcome.replayed
        assert outcome.balance == m.balance
        assert outcome.member_points == m.donated[cause_id]
        assert outcome.progress.points == self.cause_totals[cause_id]
        event("donated")
        if request_id is None:
            return multiple()
        self.donation_models[request_id] = DonationModel(request_id, member, cause_id, points)
        return request_id

    @rule(donation=donations)
    def retry_donation(self, donation: str) -> None:
        d = self.donation_models[donation]
        m = self.model[d.member_id]
        call = donate(
            self.uow,
            self.program,
            member_id=d.member_id,
            cause_id=d.cause_id,
            points=d.points,
            now=self.now,
            request_id=donation,
        )
        if m.forgotten:
            self.expect(NotFound, call)
            return
        outcome = self.run(call)
        assert outcome.replayed
        assert outcome.balance == m.balance
        assert outcome.member_points == m.donated[d.cause_id]
        event("donation replayed")

    # -- by hand --------------------------------------------------------------------------

    @rule(
        member=members,
        add=st.booleans(),
        over=st.booleans(),
        percent=st.integers(1, 100),
        amount=st.integers(1, 2_000),
    )
    def adjust(self, member: int, add: bool, over: bool, percent: int, amount: int) -> None:
        m = self.model[member]
        if add:
            points = amount
        else:
            points = -(m.balance + amount if over else max(m.balance * percent // 100, 1))
        call = adjust_points(
            self.uow,
            self.program,
            member_id=member,
            points=points,
            reason="property test",
            actor="admin:1",
            now=self.now,
        )
        if m.forgotten:
            self.expect(NotFound, call)
            return
        if -points > m.balance:
            self.expect(InsufficientPoints, call)
            return
        new_balance = self.run(call)
        if points > 0:
            self.credit(m, points)
        else:
            self.debit(m, -points)
        assert new_balance == m.balance
        event("adjusted up" if points > 0 else "adjusted down")

    @rule(member=members, roll=st.integers(0, 3))
    def forget_member(self, member: int, roll: int) -> None:
        """Forget a member, rarely (one roll in four)."""
        if roll:
            return
        m = self.model[member]
        call = forget(self.uow, member, self.now)
        if m.forgotten:
            self.expect(NotFound, call)
            return
        forfeited = self.run(call)
        assert forfeited == m.balance
        if m.balance:
            self.debit(m, m.balance)
        m.forgotten = True
        self.friends_before[m.telegram_id] += len(m.rewarded_at)
        event("forgotten")

    # -- time -----------------------------------------------------------------------------

    def advance(self, step: timedelta, expiry_batch: int) -> None:
        """Move the clock, expire what is due, review tiers: the daily jobs, caught up."""
        self.now += step
        expired: Counter[int] = Counter()
        lots = 0
        for m in self.model.values():
            for lot in m.lots:
                if lot.remaining > 0 and lot.expires_at <= self.now:
                    expired[m.id] += lot.remaining
                    m.balance -= lot.remaining
                    lot.remaining = 0
                    lots += 1
        run = self.run(expire_due_points(self.uow, self.now, batch=expiry_batch))
        assert (run.lots, run.points, run.members) == (lots, sum(expired.values()), len(expired))
        assert self.run(self._expired_in_ledger()) == dict(expired)
        if run.points:
            event("points expired")
        changed = self.run(review_tiers(self.uow, self.program, self.now))
        after = self.run(self._tiers())
        moved = sum(
            after[mid] != self.tiers_seen[mid] for mid, m in self.model.items() if not m.forgotten
        )
        assert changed == moved
        if changed:
            event("tiers changed by review")
        event(f"clock advanced: {(self.now - NOW).days // 365} years in")

    @rule(
        days=st.integers(1, 120) | st.sampled_from([GRACE_DAYS - 1, GRACE_DAYS]),
        expiry_batch=st.sampled_from([1, 2, 500]),
    )
    def advance_clock(self, days: int, expiry_batch: int) -> None:
        """Move the clock 1..120 days, often just about a grace period."""
        self.advance(timedelta(days=days), expiry_batch)

    @rule(
        edge=st.sampled_from(["grace", "grace", "window", "expiry"]),
        pick=st.integers(0, 3),
        early=st.booleans(),
    )
    def advance_to_edge(self, edge: str, pick: int, early: bool) -> None:
        """Move the clock exactly onto (or a second before) one of the next moments where a
        rule flips: a grace period runs out, a tier credit leaves the window, a lot expires.

        With no such moment ahead, the next kind is taken: nobody in grace, then a credit
        leaving the window (which puts members in grace).
        """
        window = timedelta(days=self.program.tiers.window_days)
        grace = timedelta(days=self.program.tiers.grace_days)
        moments = {
            "grace": [since + grace for since in self.below_since_seen.values()],
            "window": [
                at + window for m in self.model.values() if not m.forgotten for at, _ in m.credits
            ],
            "expiry": [
                lot.expires_at for m in self.model.values() for lot in m.lots if lot.remaining > 0
            ],
        }
        kinds = ["grace", "window", "expiry"]
        for kind in kinds[kinds.index(edge) :]:
            shift = timedelta(seconds=1) if early else timedelta(0)
            targets = sorted(
                {moment - shift for moment in moments[kind] if moment - shift > self.now}
            )
            if targets:
                event(f"clock to a {kind} edge" + (", a second early" if early else ""))
                self.advance(targets[min(pick, len(targets) - 1)] - self.now, 500)
                return
        event("clock to an edge: none ahead")

    async def _expired_in_ledger(self) -> dict[int, int]:
        statement = (
            select(TransactionRow.c.member_id, func.sum(TransactionRow.c.points))
            .where(TransactionRow.c.kind == "expiry", TransactionRow.c.created_at == self.now)
            .group_by(TransactionRow.c.member_id)
        )
        async with self.database.reader.connect() as conn:
            return {mid: -int(points) for mid, points in (await conn.execute(statement)).all()}

    async def _tiers(self) -> dict[int, str]:
        async with self.database.reader.connect() as conn:
            rows = await conn.execute(select(MemberRow.c.id, MemberRow.c.tier))
            return {mid: tier for mid, tier in rows.all()}

    # -- the checks -----------------------------------------------------------------------

    @invariant()
    def books_balance_and_match_the_model(self) -> None:
        self.run(self._check())

    async def _check(self) -> None:
        drifts = await check_invariants(self.database)
        assert drifts == [], [str(d) for d in drifts]
        tiers = self.program.tiers
        grace = timedelta(days=tiers.grace_days)
        async with SqlUnitOfWork(self.database, read_only=True) as uow:
            for mid, m in self.model.items():
                member = await uow.members.get(mid)
                assert member is not None
                assert (member.forgotten_at is not None) == m.forgotten
                balance = await uow.ledger.balance(mid)
                assert balance >= 0
                assert balance == m.balance, f"member {mid}: balance {balance}, model {m.balance}"
                assert sum(lot.remaining for lot in m.lots) == m.balance
                open_lots = [
                    (lot.remaining, lot.expires_at) for lot in await uow.ledger.open_lots(mid)
                ]
                assert open_lots == [
                    (lot.remaining, lot.expires_at)
                    for lot in sorted(
                        (lot for lot in m.lots if lot.remaining > 0),
                        key=lambda lot: (lot.expires_at, lot.seq),
                    )
                ]
                self.tiers_seen[mid] = member.tier
                if member.tier_below_since is not None:
                    self.below_since_seen[mid] = member.tier_below_since
                else:
                    self.below_since_seen.pop(mid, None)
                if m.forgotten:
                    continue
                if mid in self.tiers_reported:
                    assert self.tiers_reported[mid] == member.tier
                credits = await tier_credits(uow, self.program, mid, self.now)
                assert credits == self.window_credits(m)
                earned = tiers.for_credits(credits)
                if tiers.rank(earned.name) < tiers.rank(member.tier):
                    event("tier kept in grace")
                    assert member.tier_below_since is not None
                    assert member.tier_below_since <= self.now
                    assert self.now - member.tier_below_since < grace
                else:
                    assert earned.name == member.tier
                    assert member.tier_below_since is None
        self.tiers_reported.clear()
        async with self.database.reader.connect() as conn:
            count = await conn.execute(select(func.count()).select_from(MemberRow))
            assert count.scalar_one() == len(self.model)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_ledger_state_machine(
    engine: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = request.getfixturevalue("postgres_url") if engine == "postgresql" else None
    monkeypatch.setattr(LedgerMachine, "postgres_url", url)
    run_state_machine_as_test(LedgerMachine, settings=SETTINGS)
