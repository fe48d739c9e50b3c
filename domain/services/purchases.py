"""Recording receipts (idempotent on merchant + receipt id) and refunding them.

One pipeline records every receipt, batch-first: `record_purchases` takes a batch in one
transaction and `record_purchase` is a batch of one. Each receipt goes through the same
steps, in order, against its member's "book" (row, balance, tier credits in the window)
read once for the batch: checked (InvalidRequest), looked up among the receipts seen
before (a replay of the first answer, or Conflict for another body), its member found
(a phone nobody has yet: the receipt is held for it; nobody, or a forgotten member:
NotFound), then awarded in memory (points, tier credits, tier and grace, first purchase,
notifications, survey trigger, purchase row). Then each table is written once. A first
purchase that qualifies a referral ends the run there: what it holds is written, the
referrer is rewarded, and the receipts after it are read afresh. Receipts held for a
phone go through the same steps when the phone is shared (`credit_held`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from domain.earning import Earning, PointGrant, Purchase, PurchaseLine, clawback
from domain.errors import Conflict, InvalidRequest, LoyaltyError, NotFound, RefundExceedsReceipt
from domain.ledger import EntryKind, add_months
from domain.models import HeldPurchase, Member, PurchaseRecord, RefundRecord
from domain.ports import (
    Credit,
    NewNotification,
    NewPurchase,
    Posting,
    SeenReceipt,
    Standing,
    UnitOfWork,
)
from domain.program import Program
from domain.promotions import promoted_earning, promotion_shares
from domain.receipts import MemberKey, MemberRef, ReceiptIn, check_receipt, member_keys
from domain.services.challenges import settle_challenges
from domain.services.referrals import ReferralReward, qualify_referral
from domain.services.round_ups import RoundUpRun, donated, kept_points
from domain.services.stamp_cards import StampRun, take_back_stamps
from domain.services.surveys import Trigger, asks, queue_surveys
from domain.services.tiering import refresh_tier, tier_status, window_start
from domain.services.transactions import once

__all__ = [
    "MERCHANT",
    "MemberRef",
    "PurchaseOutcome",
    "ReceiptIn",
    "credit_held",
    "find_member",
    "find_members",
    "record_each",
    "record_purchase",
    "record_purchases",
    "refund_purchase",
    "replays",
]

MERCHANT = "main"  # the one merchant a program serves today; receipts are unique per merchant
CENT = Decimal("0.01")


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


# -- the edges' entry points ---------------------------------------------------------------


async def record_purchase(
    uow: UnitOfWork,
    program: Program,
    receipt: ReceiptIn,
    *,
    now: datetime,
    merchant: str = MERCHANT,
) -> PurchaseOutcome:
    """Record one receipt in its own transaction: a batch of one.

    The same receipt again replays the first answer. Raises Conflict when the receipt id
    was used for a different body, NotFound when no member matches, InvalidRequest for a
    receipt that cannot be right.
    """
    outcome = await _alone(uow, program, receipt, now, merchant)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def record_purchases(
    uow: UnitOfWork,
    program: Program,
    receipts: Sequence[ReceiptIn],
    *,
    now: datetime,
    merchant: str = MERCHANT,
) -> list[PurchaseOutcome | LoyaltyError]:
    """Record receipts in one transaction, each as if recorded alone, in order.

    A refused receipt writes nothing, so its error stands in its place and the others
    commit. What fails the transaction as a whole (DuplicateKey: a receipt recorded
    meanwhile; a deadlock) is raised, and nothing was written: see `record_each`.
    """
    jobs = [_Job(receipt, merchant, receipt.fingerprint) for receipt in receipts]
    async with uow:
        return await _pipeline(uow, program, jobs, now)


async def record_each(
    uow: UnitOfWork,
    program: Program,
    receipts: Sequence[ReceiptIn],
    *,
    now: datetime,
    merchant: str = MERCHANT,
) -> list[PurchaseOutcome | Exception]:
    """`record_purchases`, or, if its transaction fails as a whole, each receipt in its own.

    So a receipt recorded meanwhile, a deadlock or any failure of one receipt is that
    receipt's own outcome (its refusal, or the exception that failed it alone), never the
    others'. The API's group commit and the importer record through this.
    """
    if len(receipts) > 1:
        try:
            return list(await record_purchases(uow, program, receipts, now=now, merchant=merchant))
        except Exception:  # nothing was written: record them one by one below
            pass
    return [await _alone(uow, program, receipt, now, merchant) for receipt in receipts]


async def _alone(
    uow: UnitOfWork, program: Program, receipt: ReceiptIn, now: datetime, merchant: str
) -> PurchaseOutcome | Exception:
    """A batch of one in its own transaction, again once if a concurrent twin committed
    first (then the replay of its answer)."""
    job = _Job(receipt, merchant, receipt.fingerprint)
    try:
        return (await once(uow, lambda: _pipeline(uow, program, [job], now)))[0]
    except Exception as failure:
        return failure


async def replays(
    uow: UnitOfWork, receipts: Sequence[ReceiptIn], *, merchant: str = MERCHANT
) -> list[PurchaseOutcome | Conflict | None]:
    """For each receipt, in one read: the replay of its first answer, Conflict when its id
    was used for another body, None when it was never recorded or held (the importer's
    second run of a file skips its write transactions with this)."""
    jobs = [_Job(receipt, merchant, receipt.fingerprint) for receipt in receipts]
    async with uow:
        seen = await _seen(uow, jobs)
    answers: list[PurchaseOutcome | Conflict | None] = []
    for job in jobs:
        found = seen.get((merchant, job.receipt.receipt_id))
        try:
            answers.append(
                None
                if found is None
                else _replay_of(job.receipt.receipt_id, job.fingerprint, *found)
            )
        except Conflict as conflict:
            answers.append(conflict)
    return answers


async def credit_held(
    uow: UnitOfWork, program: Program, member_id: int, phone: str, now: datetime
) -> list[PurchaseOutcome]:
    """Award, inside the caller's transaction, every receipt held for `phone` to the member
    who just shared it (`member_id`), through the same pipeline as a receipt from a till."""
    jobs = [
        _Job(
            ReceiptIn(
                held.receipt_id,
                MemberRef("phone", phone),
                _lines_of(held),
                held.occurred_at,
                held.store,
            ),
            held.merchant,
            held.body_hash,
            held.id,
        )
        for held in await uow.purchases.held_for_phone(phone)
    ]
    outcomes = []
    for outcome in await _pipeline(uow, program, jobs, now):
        if isinstance(outcome, LoyaltyError):
            raise outcome  # the phone names no member: the caller stores it first
        assert outcome.member_id == member_id, "the phone is another member's"
        outcomes.append(outcome)
    return outcomes


async def find_member(uow: UnitOfWork, ref: MemberRef) -> Member | None:
    """The member a till's reference names, if any, inside the caller's transaction."""
    found = await uow.members.named([ref.key()])
    return found[0] if found else None


async def find_members(uow: UnitOfWork, keys: Sequence[MemberKey]) -> Sequence[Member]:
    """The members these stored references name, in one read of their own."""
    async with uow:
        return await uow.members.named(keys)


# -- the pipeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """A receipt in the pipeline: for which merchant, its fingerprint, and the held row it
    credits (when a phone was just shared)."""

    receipt: ReceiptIn
    merchant: str
    fingerprint: str
    held_id: int | None = None


async def _pipeline(
    uow: UnitOfWork, program: Program, jobs: Sequence[_Job], now: datetime
) -> list[PurchaseOutcome | LoyaltyError]:
    """Every job's outcome, in order, inside the caller's transaction: run after run."""
    outcomes: list[PurchaseOutcome | LoyaltyError] = []
    while len(outcomes) < len(jobs):
        run = await _Run.load(uow, program, jobs[len(outcomes) :], now)
        outcomes += await run.record(uow)
    return outcomes


@dataclass
class _Book:
    """A member as the run's receipts leave them: row, balance, tier credits in the window."""

    loaded: Member
    member: Member
    balance: int
    window_credits: int


Seen = tuple[str, PurchaseOutcome]  # a receipt's fingerprint and what a retry is answered


@dataclass
class _Run:
    """Receipts taken in order against their members' books, then written per table."""

    program: Program
    now: datetime
    jobs: Sequence[_Job]
    books: dict[MemberKey, _Book]
    seen: dict[tuple[str, str], Seen]
    stamp_cards: StampRun
    round_ups: RoundUpRun
    credits: list[Credit] = field(default_factory=list)
    tier_credits: list[tuple[int, int, datetime]] = field(default_factory=list)
    notices: list[NewNotification] = field(default_factory=list)
    purchases: list[tuple[NewPurchase, int | None]] = field(default_factory=list)  # lot index
    surveys: list[Trigger] = field(default_factory=list)
    held: list[HeldPurchase] = field(default_factory=list)
    credited: list[int] = field(default_factory=list)  # held rows now awarded
    referral: int | None = None  # the member whose first purchase qualifies their referral

    @classmethod
    async def load(
        cls, uow: UnitOfWork, program: Program, jobs: Sequence[_Job], now: datetime
    ) -> _Run:
        """Lock the jobs' members and accounts (with their round-up causes), then read the
        receipts seen before and, when the program has stamp cards, the members' cards."""
        keys = set()
        for job in jobs:
            try:
                keys.add(job.receipt.member.key())
            except InvalidRequest:  # refused when its turn comes
                continue
        books: dict[MemberKey, _Book] = {}
        causes: dict[int, str] = {}
        for account in await uow.ledger.lock_accounts(keys, window_start(program, now)):
            member = account.member
            book = _Book(member, member, account.balance, account.tier_credits)
            books.update((key, book) for key in member_keys(member))
            if account.round_up is not None:
                causes[member.id] = account.round_up
        fresh = [job for job in jobs if job.held_id is None]
        seen = await _seen(uow, fresh) if fresh else {}
        member_ids = {book.member.id for book in books.values()}
        stamp_cards = await StampRun.load(uow, program, member_ids)
        return cls(program, now, jobs, books, seen, stamp_cards, RoundUpRun(program, causes))

    async def record(self, uow: UnitOfWork) -> list[PurchaseOutcome | LoyaltyError]:
        """Take the jobs up to the first whose purchase qualifies a referral, write what they
        changed, then reward the referrer (the jobs after it need a new run)."""
        outcomes: list[PurchaseOutcome | LoyaltyError] = []
        for job in self.jobs:
            outcome = self._take(job)
            if self.referral is not None and isinstance(outcome, PurchaseOutcome):
                await self._write(uow)
                reward = await qualify_referral(
                    uow, self.program, self.referral, self.now, job.receipt.occurred_at or self.now
                )
                return [*outcomes, replace(outcome, referral_reward=reward)]
            outcomes.append(outcome)
        await self._write(uow)
        return outcomes

    def _take(self, job: _Job) -> PurchaseOutcome | LoyaltyError:
        """The job's outcome: refused, replayed, held or awarded."""
        receipt = job.receipt
        try:
            check_receipt(receipt, self.now)
            key = receipt.member.key()
            seen = (
                None
                if job.held_id is not None
                else self.seen.get((job.merchant, receipt.receipt_id))
            )
            if seen is not None:
                return _replay_of(receipt.receipt_id, job.fingerprint, *seen)
            book = self.books.get(key)
            if book is None or book.member.forgotten_at is not None or book.member.code is None:
                if key[0] == "phone" and book is None:
                    return self._hold(job, str(key[1]))
                raise NotFound("member", receipt.member.value)
        except (InvalidRequest, NotFound, Conflict) as refused:
            return refused
        return self._award(book, job)

    def _hold(self, job: _Job, phone: str) -> PurchaseOutcome:
        """Keep a receipt for a phone nobody has shared yet (a retry answers the same)."""
        receipt = job.receipt
        self.held.append(
            HeldPurchase(
                0,
                job.merchant,
                receipt.receipt_id,
                phone,
                job.fingerprint,
                stored_lines(receipt.lines),
                receipt.store,
                receipt.occurred_at or self.now,
            )
        )
        outcome = _held_outcome(receipt.receipt_id, phone, replayed=False)
        self.seen[(job.merchant, receipt.receipt_id)] = (job.fingerprint, _as_replay(outcome))
        return outcome

    def _award(self, book: _Book, job: _Job) -> PurchaseOutcome:
        """Points, tier credits, tier, first purchase and notifications of one receipt."""
        receipt, member, now = job.receipt, book.member, self.now
        assert member.code is not None
        if _qualifies_referral(self.program, member):
            self.referral = member.id
        purchase = Purchase(tuple(receipt.lines))
        occurred_at = receipt.occurred_at or now
        earning = earn(self.program, member, purchase, occurred_at, now)
        lot = None
        if earning.points > 0:
            lot = len(self.credits)  # the receipt's first lot: a refund takes from it first
            self.credits += purchase_credits(
                self.program, member.id, receipt.receipt_id, earning, occurred_at
            )
            book.balance += earning.points
        if earning.tier_credits:
            self.tier_credits.append((member.id, earning.tier_credits, occurred_at))
            if occurred_at > window_start(self.program, now):
                book.window_credits += earning.tier_credits
        extras = self.round_ups.split(member.id, earning.points, lot)
        book.balance -= donated(extras)
        extras |= self.stamp_cards.stamp(member, purchase.lines, now)
        status = tier_status(self.program, member, book.window_credits, now)
        answer = award_answer(receipt.receipt_id, member.code, earning, book.balance, status.tier)
        answer |= extras  # round-up and stamps, shown with the points
        self.notices += notices(self.program, member, answer, status.tier)
        self.surveys.append(
            Trigger(member, "purchase", f"receipt:{receipt.receipt_id}", receipt.store)
        )
        self.purchases.append(
            (new_purchase(job, member.id, purchase, earning, occurred_at, answer), lot)
        )
        if job.held_id is not None:
            self.credited.append(job.held_id)
        book.member = replace(
            member,
            tier=status.tier,
            tier_below_since=status.below_since,
            first_purchase_at=member.first_purchase_at or occurred_at,
        )
        outcome = PurchaseOutcome(answer, False, member.id, member.tier)
        self.seen[(job.merchant, receipt.receipt_id)] = (job.fingerprint, _as_replay(outcome))
        return outcome

    async def _write(self, uow: UnitOfWork) -> None:
        """Write what the run's receipts changed: one statement per table, in their order."""
        lot_ids = await uow.ledger.credit_many(self.credits)
        await self.round_ups.write(uow, lot_ids, self.now)
        await self.stamp_cards.write(uow, self.now)  # before the answers that show its vouchers
        await uow.tier_credits.add_many(self.tier_credits)
        books = {id(book): book for book in self.books.values()}.values()
        await uow.members.advance(
            [
                Standing(
                    b.member.id,
                    b.member.tier,
                    b.member.tier_below_since,
                    b.member.first_purchase_at,
                )
                for b in books
                if (b.member.tier, b.member.tier_below_since, b.member.first_purchase_at)
                != (b.loaded.tier, b.loaded.tier_below_since, b.loaded.first_purchase_at)
            ]
        )
        await uow.outbox.add_many(self.notices, self.now)
        if self.surveys and asks(self.program, "purchase"):
            await queue_surveys(uow, self.program, self.surveys, self.now)
        await uow.purchases.hold(self.held, self.now)
        await uow.purchases.mark_credited(self.credited, self.now)
        await uow.purchases.add_many(
            [
                replace(
                    row, record=replace(row.record, lot_id=None if lot is None else lot_ids[lot])
                )
                for row, lot in self.purchases
            ],
            self.now,
        )
        buyers = {row.record.member_id for row, _ in self.purchases}
        await settle_challenges(
            uow, self.program, [b.member for b in books if b.member.id in buyers], self.now
        )


async def _seen(uow: UnitOfWork, jobs: Sequence[_Job]) -> dict[tuple[str, str], Seen]:
    """The jobs' receipts recorded or held before, with what a retry is answered."""
    seen: dict[tuple[str, str], Seen] = {}
    for merchant in {job.merchant for job in jobs}:
        ids = {job.receipt.receipt_id for job in jobs if job.merchant == merchant}
        seen.update(
            ((merchant, found.receipt_id), (found.body_hash, replay(found)))
            for found in await uow.purchases.seen(merchant, ids)
        )
    return seen


def replay(seen: SeenReceipt) -> PurchaseOutcome:
    """What a retry of a receipt seen before is answered: its first answer, nothing awarded."""
    if seen.answer is None:
        assert seen.phone is not None
        return _held_outcome(seen.receipt_id, seen.phone, replayed=True)
    return PurchaseOutcome(seen.answer, True, seen.member_id, str(seen.answer["tier"]))


def _replay_of(
    receipt_id: str, fingerprint: str, recorded_hash: str, replayed: PurchaseOutcome
) -> PurchaseOutcome:
    """A receipt id seen before: its replay for the same body, Conflict for another."""
    if recorded_hash != fingerprint:
        raise Conflict(f"receipt {receipt_id!r} was already recorded with a different body")
    return replayed


def _as_replay(outcome: PurchaseOutcome) -> PurchaseOutcome:
    """What a retry of the receipt that just had `outcome` is answered."""
    if outcome.held:
        return replace(outcome, replayed=True)
    return PurchaseOutcome(outcome.answer, True, outcome.member_id, outcome.tier)


def _held_outcome(receipt_id: str, phone: str, replayed: bool) -> PurchaseOutcome:
    """The answer for a held receipt: nothing awarded yet."""
    return PurchaseOutcome(
        {"receipt_id": receipt_id, "held_for_phone": phone}, replayed, None, "", held=True
    )


def _qualifies_referral(program: Program, member: Member) -> bool:
    """Whether `member`'s next purchase is their first and qualifies the friend who invited them."""
    return (
        member.first_purchase_at is None
        and member.referrer_id is not None
        and program.referrals.qualify_on == "first_purchase"
    )


def _lines_of(held: HeldPurchase) -> list[PurchaseLine]:
    """A held receipt's lines as they were sent."""
    return [
        PurchaseLine(
            str(ln["sku"]), str(ln["category"]), int(ln["quantity"]), Decimal(str(ln["unit_price"]))
        )
        for ln in held.lines
    ]


# -- the rules of one award ------------------------------------------------------------------


def earn(
    program: Program, member: Member, purchase: Purchase, occurred_at: datetime, now: datetime
) -> Earning:
    """What `purchase`, made at `occurred_at` and recorded `now`, earns `member` at their
    tier now: nothing to spend when its points would have expired by now (see `expired`)."""
    earning = promoted_earning(program, purchase, program.tiers.get(member.tier), occurred_at)
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
    return replace(
        earning,
        points=0,
        grants=(*earning.grants, PointGrant("expired", expires_at.isoformat(), cancelled)),
    )


def purchase_credit(
    program: Program, member_id: int, receipt_id: str, points: int, occurred_at: datetime
) -> Credit:
    """The ledger credit of a receipt's points, dated by the purchase (so history shows it
    on that day) and expiring the program's months after it."""
    posting = Posting(member_id, EntryKind.PURCHASE, occurred_at, reference=f"receipt:{receipt_id}")
    return Credit(posting, points, purchase_expiry(program, occurred_at))


def purchase_credits(
    program: Program, member_id: int, receipt_id: str, earning: Earning, occurred_at: datetime
) -> list[Credit]:
    """A receipt's ledger credits: its points without promotions, then one `promotion`
    credit per promotion that added points (its id as the reason), all dated and expiring
    alike."""
    plain, shares = promotion_shares(earning, program.earning.rounding)
    credits = [purchase_credit(program, member_id, receipt_id, plain, occurred_at)] if plain else []
    for promotion_id, points in shares:
        if points:
            posting = Posting(
                member_id,
                EntryKind.PROMOTION,
                occurred_at,
                reason=promotion_id,
                reference=f"receipt:{receipt_id}",
            )
            credits.append(Credit(posting, points, purchase_expiry(program, occurred_at)))
    return credits


def new_purchase(
    job: _Job,
    member_id: int,
    purchase: Purchase,
    earning: Earning,
    occurred_at: datetime,
    answer: dict[str, object],
) -> NewPurchase:
    """The purchase row of an awarded receipt (its lot is filled in when written)."""
    return NewPurchase(
        PurchaseRecord(
            id=0,
            merchant=job.merchant,
            receipt_id=job.receipt.receipt_id,
            member_id=member_id,
            body_hash=job.fingerprint,
            total=purchase.total,
            points_awarded=earning.points,
            tier_credits=earning.tier_credits,
            refunded=Decimal(0),
            points_clawed=0,
            credits_clawed=0,
            lot_id=None,
            occurred_at=occurred_at,
            answer=answer,
        ),
        job.receipt.store,
        stored_lines(purchase.lines),
    )


def stored_lines(lines: Sequence[PurchaseLine]) -> list[dict[str, str | int]]:
    """Receipt lines as stored with a purchase (JSON)."""
    return [
        {
            "sku": ln.sku,
            "category": ln.category,
            "quantity": ln.quantity,
            "unit_price": str(ln.unit_price),
        }
        for ln in lines
    ]


def notices(
    program: Program, member: Member, answer: dict[str, object], tier: str
) -> list[NewNotification]:
    """Tell the member what they earned and, when it rose from `member.tier`, their new tier."""
    found = []
    if answer["points_awarded"] or "stamps" in answer:
        found.append(NewNotification(member.id, "points_earned", answer))
    if program.tiers.rank(tier) > program.tiers.rank(member.tier):
        found.append(NewNotification(member.id, "tier_up", {"tier": tier}))
    return found


def award_answer(
    receipt_id: str, member_code: str, earning: Earning, balance: int, tier: str
) -> dict[str, object]:
    """The till's answer for an awarded receipt (kept with it, and replayed on a retry)."""
    return {
        "receipt_id": receipt_id,
        "member_code": member_code,
        "points_awarded": earning.points,
        "tier_credits": earning.tier_credits,
        "breakdown": [
            {"reason": g.reason, "detail": g.detail, "points": str(g.points.quantize(CENT))}
            for g in earning.grants
        ]
        + [
            {
                "reason": "tier_multiplier",
                "detail": earning.tier_name,
                "points": str(earning.tier_multiplier),
            }
        ],
        "balance": balance,
        "tier": tier,
    }


# -- refunds ---------------------------------------------------------------------------------


async def refund_purchase(
    uow: UnitOfWork,
    program: Program,
    *,
    merchant: str,
    receipt_id: str,
    amount: Decimal,
    now: datetime,
    refund_id: str | None = None,
    actor: str | None = None,
) -> RefundOutcome:
    """Take back points and tier credits in proportion to the refunded amount.

    What the balance cannot cover is recorded as a shortfall, never taken below zero.
    With a `refund_id` a retried refund is answered again instead of applied twice.
    """
    if amount <= 0:
        raise InvalidRequest("a refund amount must be positive")
    return await once(
        uow, lambda: _refund(uow, program, merchant, receipt_id, amount, now, refund_id, actor)
    )


async def _refund(
    uow: UnitOfWork,
    program: Program,
    merchant: str,
    receipt_id: str,
    amount: Decimal,
    now: datetime,
    refund_id: str | None,
    actor: str | None,
) -> RefundOutcome:
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
            return RefundOutcome(
                previous,
                True,
                await uow.ledger.balance(member.id),
                member.tier,
                purchase.refunded,
                purchase.total,
            )
    if purchase.refunded + amount > purchase.total:
        raise RefundExceedsReceipt(
            f"refund of {amount} exceeds what is left of receipt {receipt_id!r} "
            f"({purchase.total - purchase.refunded})"
        )
    points_due = clawback(kept_points(purchase), purchase.total, purchase.refunded, amount)
    credits_due = clawback(purchase.tier_credits, purchase.total, purchase.refunded, amount)
    taken = min(points_due, await uow.ledger.balance(member.id))
    if taken:
        posting = Posting(
            member.id, EntryKind.REFUND, now, actor=actor, reference=f"receipt:{receipt_id}"
        )
        await uow.ledger.debit(posting, taken, prefer_lot_id=purchase.lot_id)
    await take_back_stamps(uow, purchase, amount, now)
    # dated like the purchase, so the credits leave the rolling window together
    await uow.tier_credits.add(member.id, -credits_due, purchase.occurred_at)
    draft = RefundRecord(
        0, purchase.id, refund_id, amount, taken, points_due - taken, credits_due, now
    )
    refund = replace(draft, id=await uow.purchases.add_refund(purchase, draft, merchant, actor))
    await uow.audit.add(
        now,
        actor or "unknown",
        "refund",
        {
            "receipt_id": receipt_id,
            "amount": str(amount),
            "refund_id": refund_id,
            "points_clawed": taken,
            "points_shortfall": points_due - taken,
        },
    )
    tier = await refresh_tier(uow, program, member, now)
    if asks(program, "refund"):
        store = await uow.surveys.receipt_store(merchant, receipt_id)
        await queue_surveys(
            uow, program, [Trigger(member, "refund", f"refund:{refund.id}", store)], now
        )
    return RefundOutcome(
        refund,
        False,
        await uow.ledger.balance(member.id),
        tier,
        purchase.refunded + amount,
        purchase.total,
    )
