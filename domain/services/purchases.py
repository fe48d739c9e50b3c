"""Recording a receipt (idempotent on merchant + receipt id) and refunding it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from domain.codes import normalize_code
from domain.contact import normalize_phone
from domain.earning import Earner, Earning, PointGrant, Purchase, PurchaseLine, clawback
from domain.errors import (
    Conflict,
    DuplicateKey,
    InvalidRequest,
    LoyaltyError,
    NotFound,
    RefundExceedsReceipt,
)
from domain.ledger import EntryKind, add_months
from domain.models import HeldPurchase, Member, PurchaseRecord, RefundRecord
from domain.ports import Credit, NewNotification, NewPurchase, Posting, UnitOfWork
from domain.program import Program
from domain.services.referrals import ReferralReward, qualify_referral
from domain.services.surveys import Trigger, asks, queue_surveys
from domain.services.tiering import refresh_tier
from domain.services.transactions import once

MAX_QUANTITY = 100_000
MAX_UNIT_PRICE = Decimal("1000000000")
FUTURE_SKEW = timedelta(minutes=10)
MAX_RECEIPT_ID = 120  # the ledger stores "receipt:<id>" as a reference of 128 characters
MERCHANT = "main"  # the one merchant a program serves today; receipts are unique per merchant
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MemberRef:
    """How a till names the customer: by Telegram id, member code or phone."""

    kind: Literal["telegram_id", "member_code", "phone"]
    value: str


@dataclass(frozen=True)
class PurchaseOutcome:
    """The answer for a till (`answer`, identical on a retry) and what changed for the bot."""

    answer: dict[str, object]
    replayed: bool
    member_id: int | None
    tier_before: str
    referral_reward: ReferralReward | None = None
    held: bool = False

    @property
    def points(self) -> int:
        """Points this receipt awarded (none while it is held for a phone)."""
        return int(str(self.answer.get("points_awarded", 0)))

    @property
    def tier(self) -> str:
        """The member's tier after the purchase."""
        return str(self.answer["tier"])


@dataclass(frozen=True)
class RefundOutcome:
    """What a refund took back, what it could not, and the receipt's state after it."""

    refund: RefundRecord
    replayed: bool
    balance: int
    tier: str
    refunded_total: Decimal
    receipt_total: Decimal


def validate_lines(lines: list[PurchaseLine]) -> None:
    """Refuse a receipt no till could mean (empty, zero quantity, negative price)."""
    if not lines:
        raise InvalidRequest("a purchase needs at least one line")
    for i, line in enumerate(lines):
        if not line.sku.strip() or not line.category.strip():
            raise InvalidRequest(f"line {i}: sku and category must not be empty")
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidRequest(f"line {i}: quantity must be 1..{MAX_QUANTITY}")
        if not Decimal(0) <= line.unit_price <= MAX_UNIT_PRICE:
            raise InvalidRequest(f"line {i}: unit_price must be 0..{MAX_UNIT_PRICE}")
        if line.unit_price.as_tuple().exponent < -4:  # type: ignore[operator]
            raise InvalidRequest(f"line {i}: unit_price has more than 4 decimal places")


def check_receipt(receipt_id: str, lines: list[PurchaseLine], occurred_at: datetime | None,
                  now: datetime) -> None:
    """Refuse (InvalidRequest) a receipt that cannot be right, before anything is read."""
    validate_lines(lines)
    if not receipt_id.strip() or len(receipt_id) > MAX_RECEIPT_ID:
        raise InvalidRequest(f"receipt_id must be 1..{MAX_RECEIPT_ID} characters")
    if occurred_at is not None and occurred_at > now + FUTURE_SKEW:
        raise InvalidRequest("occurred_at is in the future")


def body_hash(member: MemberRef, lines: list[PurchaseLine], occurred_at: datetime | None,
              store: str | None) -> str:
    """A fingerprint of what the till sent, so a retry is told from a different receipt."""
    body = {
        "member": [member.kind, member.value],
        "lines": [[ln.sku, ln.category, ln.quantity, format(ln.unit_price.normalize(), "f")]
                  for ln in lines],
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "store": store,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def find_member(uow: UnitOfWork, ref: MemberRef, lock: bool = False) -> Member | None:
    """The member a till's reference names, if any (locked until commit with `lock`)."""
    if ref.kind == "telegram_id":
        return await uow.members.by_telegram_id(int(ref.value), lock=lock)
    if ref.kind == "member_code":
        return await uow.members.by_code(normalize_code(ref.value), lock=lock)
    return await uow.members.by_phone(normalize_phone(ref.value), lock=lock)


async def record_purchase(uow: UnitOfWork, program: Program, *, merchant: str, receipt_id: str,
                          member: MemberRef, lines: list[PurchaseLine], now: datetime,
                          occurred_at: datetime | None = None,
                          store: str | None = None) -> PurchaseOutcome:
    """Award points for a receipt once; the same receipt again replays the first answer.

    Raises Conflict when the receipt id was used for a different body, NotFound when no
    member matches, InvalidRequest for a receipt that cannot be right.
    """
    check_receipt(receipt_id, lines, occurred_at, now)
    fingerprint = body_hash(member, lines, occurred_at, store)
    try:
        async with uow:  # a retried receipt fails on the unique key at the end, see below
            return await _record(uow, program, merchant, receipt_id, member, lines, now,
                                 occurred_at or now, store, fingerprint)
    except DuplicateKey:
        async with uow:  # a concurrent twin committed first: answer as it did
            replay = await _replay(uow, merchant, receipt_id, fingerprint)
            if replay is None:
                raise
            return replay


@dataclass(frozen=True)
class ReceiptIn:
    """One receipt for `record_purchases`: what `record_purchase` takes besides the merchant."""

    receipt_id: str
    member: MemberRef
    lines: list[PurchaseLine]
    occurred_at: datetime | None = None
    store: str | None = None


async def record_or_refuse(uow: UnitOfWork, program: Program, merchant: str,
                           receipt: ReceiptIn, now: datetime) -> PurchaseOutcome | LoyaltyError:
    """One receipt inside the caller's transaction: its outcome, or the refusal raised
    before it wrote anything (so the transaction can go on)."""
    try:
        check_receipt(receipt.receipt_id, receipt.lines, receipt.occurred_at, now)
        fingerprint = body_hash(receipt.member, receipt.lines, receipt.occurred_at,
                                receipt.store)
        return await _record(uow, program, merchant, receipt.receipt_id, receipt.member,
                             receipt.lines, now, receipt.occurred_at or now, receipt.store,
                             fingerprint)
    except (InvalidRequest, NotFound, Conflict) as refused:  # raised before any write
        return refused


async def _replay(uow: UnitOfWork, merchant: str, receipt_id: str,
                  fingerprint: str) -> PurchaseOutcome | None:
    existing = await uow.purchases.get(merchant, receipt_id)
    if existing is None:
        held = await uow.purchases.held(merchant, receipt_id)
        if held is None:
            return None
        return replay_of(receipt_id, fingerprint, held.body_hash,
                         held_outcome(receipt_id, held.phone, replayed=True))
    return replay_of(receipt_id, fingerprint, existing.body_hash, recorded_replay(existing))


def replay_of(receipt_id: str, fingerprint: str, recorded_hash: str,
              replay: PurchaseOutcome) -> PurchaseOutcome:
    """A receipt id seen before: its `replay` for the same body, Conflict for another."""
    if recorded_hash != fingerprint:
        raise Conflict(f"receipt {receipt_id!r} was already recorded with a different body")
    return replay


def recorded_replay(existing: PurchaseRecord) -> PurchaseOutcome:
    """The answer to a retry of a recorded receipt: its first answer, nothing awarded."""
    return PurchaseOutcome(existing.answer, True, existing.member_id, str(existing.answer["tier"]))


def as_replay(outcome: PurchaseOutcome) -> PurchaseOutcome:
    """What a retry of the receipt that just had `outcome` is answered."""
    if outcome.held:
        return replace(outcome, replayed=True)
    return PurchaseOutcome(outcome.answer, True, outcome.member_id, outcome.tier)


async def _record(uow: UnitOfWork, program: Program, merchant: str, receipt_id: str,
                  ref: MemberRef, lines: list[PurchaseLine], now: datetime,
                  occurred_at: datetime, store: str | None, fingerprint: str) -> PurchaseOutcome:
    member = await find_member(uow, ref, lock=True)
    if member is None or member.forgotten_at is not None or member.code is None:
        replay = await _replay(uow, merchant, receipt_id, fingerprint)
        if replay is not None:  # recorded before the member left: still the same answer
            return replay
        if ref.kind == "phone" and member is None:
            return await _hold(uow, merchant, receipt_id, normalize_phone(ref.value), lines,
                               occurred_at, store, fingerprint, now)
        raise NotFound("member", ref.value)
    return await _award(uow, program, member, merchant, receipt_id, lines, now, occurred_at,
                        store, fingerprint)


async def _hold(uow: UnitOfWork, merchant: str, receipt_id: str, phone: str,
                lines: list[PurchaseLine], occurred_at: datetime, store: str | None,
                fingerprint: str, now: datetime) -> PurchaseOutcome:
    """Keep a receipt for a phone nobody has shared yet (a retry answers the same)."""
    await uow.purchases.hold(HeldPurchase(0, merchant, receipt_id, phone, fingerprint,
                                          stored_lines(lines), store, occurred_at), now)
    return held_outcome(receipt_id, phone, replayed=False)


def held_outcome(receipt_id: str, phone: str, replayed: bool) -> PurchaseOutcome:
    """The answer for a held receipt: nothing awarded yet."""
    return PurchaseOutcome({"receipt_id": receipt_id, "held_for_phone": phone}, replayed,
                           None, "", held=True)


def stored_lines(lines: list[PurchaseLine]) -> list[dict[str, str | int]]:
    """Receipt lines as stored with a purchase (JSON)."""
    return [{"sku": ln.sku, "category": ln.category, "quantity": ln.quantity,
             "unit_price": str(ln.unit_price)} for ln in lines]


async def _award(uow: UnitOfWork, program: Program, member: Member, merchant: str,
                 receipt_id: str, lines: list[PurchaseLine], now: datetime,
                 occurred_at: datetime, store: str | None, fingerprint: str) -> PurchaseOutcome:
    """Points, tier credits, tier, referral and notifications for one receipt of `member`."""
    assert member.code is not None
    purchase = Purchase(tuple(lines))
    earning = earn(program, member, purchase, occurred_at, now)
    lot_id = None
    if earning.points > 0:
        credit = purchase_credit(program, member.id, receipt_id, earning.points, occurred_at)
        posted = await uow.ledger.credit(credit.posting, credit.points, credit.expires_at)
        lot_id, balance = posted.lot_id, posted.balance
    else:
        balance = await uow.ledger.balance(member.id)
    await uow.tier_credits.add(member.id, earning.tier_credits, occurred_at)
    tier = await refresh_tier(uow, program, member, now)
    reward = None
    if member.first_purchase_at is None:
        await uow.members.set_first_purchase(member.id, occurred_at)
        if qualifies_referral(program, member):
            reward = await qualify_referral(uow, program, member.id, now, occurred_at)
    answer = award_answer(receipt_id, member.code, earning, balance, tier)
    for notice in notices(program, member, answer, tier):
        await uow.outbox.add(notice.member_id, notice.template, notice.context, now)
    await queue_surveys(uow, program, [Trigger(member, "purchase", f"receipt:{receipt_id}",
                                               store)], now)
    row = new_purchase(merchant, member.id, receipt_id, fingerprint, purchase, earning, lot_id,
                       occurred_at, answer, store)
    await uow.purchases.add(row.record, now, row.store, row.lines)
    return PurchaseOutcome(answer, False, member.id, member.tier, reward)


def qualifies_referral(program: Program, member: Member) -> bool:
    """Whether `member`'s next purchase is their first and qualifies the friend who invited them."""
    return (member.first_purchase_at is None and member.referrer_id is not None
            and program.referrals.qualify_on == "first_purchase")


def earn(program: Program, member: Member, purchase: Purchase, occurred_at: datetime,
         now: datetime) -> Earning:
    """What `purchase`, made at `occurred_at` and recorded `now`, earns `member` at their
    tier now: nothing to spend when its points would have expired by now (see `expired`)."""
    earning = Earner(program.earning).earn(purchase, program.tiers.get(member.tier))
    expires_at = purchase_expiry(program, occurred_at)
    return expired(earning, expires_at) if earning.points and expires_at <= now else earning


def purchase_expiry(program: Program, occurred_at: datetime) -> datetime:
    """When the points of a purchase made at `occurred_at` expire: counted from the purchase,
    not from when the till sent it."""
    return add_months(occurred_at, program.expiry.months)


def expired(earning: Earning, expires_at: datetime) -> Earning:
    """`earning` for a receipt sent after its points would have expired: no points (a lot
    already expired would be spendable until the next expiry run, and a refund would take
    its points from other lots), an `expired` line cancelling the others in the breakdown,
    the tier credits unchanged (dated by the purchase, the rolling window decides)."""
    cancelled = -sum((grant.points for grant in earning.grants), Decimal(0))
    return replace(earning, points=0, grants=(
        *earning.grants, PointGrant("expired", expires_at.isoformat(), cancelled)))


def purchase_credit(program: Program, member_id: int, receipt_id: str, points: int,
                    occurred_at: datetime) -> Credit:
    """The ledger credit of a receipt's points, dated by the purchase (so history shows it
    on that day) and expiring the program's months after it."""
    posting = Posting(member_id, EntryKind.PURCHASE, occurred_at,
                      reference=f"receipt:{receipt_id}")
    return Credit(posting, points, purchase_expiry(program, occurred_at))


def new_purchase(merchant: str, member_id: int, receipt_id: str, fingerprint: str,
                 purchase: Purchase, earning: Earning, lot_id: int | None,
                 occurred_at: datetime, answer: dict[str, object],
                 store: str | None) -> NewPurchase:
    """The purchase row of an awarded receipt."""
    return NewPurchase(PurchaseRecord(
        id=0, merchant=merchant, receipt_id=receipt_id, member_id=member_id,
        body_hash=fingerprint, total=purchase.total, points_awarded=earning.points,
        tier_credits=earning.tier_credits, refunded=Decimal(0), points_clawed=0,
        credits_clawed=0, lot_id=lot_id, occurred_at=occurred_at, answer=answer,
    ), store, stored_lines(list(purchase.lines)))


async def credit_held(uow: UnitOfWork, program: Program, member_id: int, phone: str,
                      now: datetime) -> list[PurchaseOutcome]:
    """Award, inside the caller's transaction, every receipt held for `phone` to the member."""
    outcomes = []
    for held in await uow.purchases.held_for_phone(phone):
        member = await uow.members.lock(member_id)  # fresh: tier and first purchase move
        assert member is not None
        lines = [PurchaseLine(str(ln["sku"]), str(ln["category"]), int(ln["quantity"]),
                              Decimal(str(ln["unit_price"]))) for ln in held.lines]
        outcomes.append(await _award(uow, program, member, held.merchant, held.receipt_id,
                                     lines, now, held.occurred_at, held.store, held.body_hash))
        await uow.purchases.mark_credited(held.id, now)
    return outcomes


def notices(program: Program, member: Member, answer: dict[str, object],
            tier: str) -> list[NewNotification]:
    """Tell the member what they earned and, when it rose from `member.tier`, their new tier."""
    found = []
    if answer["points_awarded"]:
        found.append(NewNotification(member.id, "points_earned", answer))
    if program.tiers.rank(tier) > program.tiers.rank(member.tier):
        found.append(NewNotification(member.id, "tier_up", {"tier": tier}))
    return found


def award_answer(receipt_id: str, member_code: str, earning: Earning, balance: int,
                 tier: str) -> dict[str, object]:
    """The till's answer for an awarded receipt (kept with it, and replayed on a retry)."""
    return {
        "receipt_id": receipt_id,
        "member_code": member_code,
        "points_awarded": earning.points,
        "tier_credits": earning.tier_credits,
        "breakdown": [
            {"reason": g.reason, "detail": g.detail, "points": str(g.points.quantize(CENT))}
            for g in earning.grants
        ] + [{"reason": "tier_multiplier", "detail": earning.tier_name,
              "points": str(earning.tier_multiplier)}],
        "balance": balance,
        "tier": tier,
    }


async def refund_purchase(uow: UnitOfWork, program: Program, *, merchant: str, receipt_id: str,
                          amount: Decimal, now: datetime, refund_id: str | None = None,
                          actor: str | None = None) -> RefundOutcome:
    """Take back points and tier credits in proportion to the refunded amount.

    What the balance cannot cover is recorded as a shortfall, never taken below zero.
    With a `refund_id` a retried refund is answered again instead of applied twice.
    """
    if amount <= 0:
        raise InvalidRequest("a refund amount must be positive")
    return await once(uow, lambda: _refund(uow, program, merchant, receipt_id, amount, now,
                                           refund_id, actor))


async def _refund(uow: UnitOfWork, program: Program, merchant: str, receipt_id: str,
                  amount: Decimal, now: datetime, refund_id: str | None,
                  actor: str | None) -> RefundOutcome:
    found = await uow.purchases.get(merchant, receipt_id)
    if found is None:
        raise NotFound("receipt", receipt_id)
    member = await uow.members.lock(found.member_id)
    purchase = await uow.purchases.get(merchant, receipt_id)  # re-read under the member lock
    assert member is not None
    assert purchase is not None
    if refund_id is not None:
        previous = await uow.purchases.refund_by_id(merchant, refund_id)
        if previous is not None:
            if previous.amount != amount or previous.purchase_id != purchase.id:
                raise Conflict(f"refund {refund_id!r} was already recorded with other values")
            return RefundOutcome(previous, True, await uow.ledger.balance(member.id),
                                 member.tier, purchase.refunded, purchase.total)
    if purchase.refunded + amount > purchase.total:
        raise RefundExceedsReceipt(
            f"refund of {amount} exceeds what is left of receipt {receipt_id!r} "
            f"({purchase.total - purchase.refunded})"
        )
    points_due = clawback(purchase.points_awarded, purchase.total, purchase.refunded, amount)
    credits_due = clawback(purchase.tier_credits, purchase.total, purchase.refunded, amount)
    taken = min(points_due, await uow.ledger.balance(member.id))
    if taken:
        posting = Posting(member.id, EntryKind.REFUND, now, actor=actor,
                          reference=f"receipt:{receipt_id}")
        await uow.ledger.debit(posting, taken, prefer_lot_id=purchase.lot_id)
    # dated like the purchase, so the credits leave the rolling window together
    await uow.tier_credits.add(member.id, -credits_due, purchase.occurred_at)
    draft = RefundRecord(0, purchase.id, refund_id, amount, taken, points_due - taken,
                         credits_due, now)
    refund = replace(draft, id=await uow.purchases.add_refund(purchase, draft, merchant, actor))
    await uow.audit.add(now, actor or "unknown", "refund", {
        "receipt_id": receipt_id, "amount": str(amount), "refund_id": refund_id,
        "points_clawed": taken, "points_shortfall": points_due - taken})
    tier = await refresh_tier(uow, program, member, now)
    if asks(program, "refund"):
        store = await uow.surveys.receipt_store(merchant, receipt_id)
        await queue_surveys(uow, program, [Trigger(member, "refund", f"refund:{refund.id}",
                                                   store)], now)
    return RefundOutcome(refund, False, await uow.ledger.balance(member.id), tier,
                         purchase.refunded + amount, purchase.total)
