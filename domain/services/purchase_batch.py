"""Recording many receipts in one transaction with set-based reads and writes: for imports.

`record_purchases` gives every receipt the outcome `record_purchase` would give it, one
after the other, but reads what a run of receipts needs with one query per table and
writes each table with one statement. The earning, tier and notification rules are those
of `domain.services.purchases`. A receipt that needs a rare path goes through
`record_or_refuse` in the same transaction, after the receipts before it are written:
no member with its reference (held for a phone, or refused), a forgotten member, or a
first purchase that qualifies a referral. The receipts after it form a new run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.codes import normalize_code
from domain.contact import normalize_phone
from domain.earning import Purchase
from domain.errors import Conflict, InvalidRequest, LoyaltyError
from domain.models import Member
from domain.ports import Credit, NewNotification, NewPurchase, UnitOfWork
from domain.program import Program
from domain.services.purchases import (
    MemberRef,
    PurchaseOutcome,
    ReceiptIn,
    as_replay,
    award_answer,
    body_hash,
    check_receipt,
    earn,
    held_outcome,
    new_purchase,
    notices,
    purchase_credit,
    qualifies_referral,
    record_or_refuse,
    recorded_replay,
    replay_of,
)
from domain.services.surveys import Trigger, queue_surveys
from domain.services.tiering import tier_status, window_start

Key = tuple[str, int | str]  # a member reference as stored: ("phone", "+1555...")
Seen = tuple[str, PurchaseOutcome]  # a recorded receipt's body hash and its replay


async def record_purchases(uow: UnitOfWork, program: Program, *, merchant: str,
                           receipts: Sequence[ReceiptIn],
                           now: datetime) -> list[PurchaseOutcome | LoyaltyError]:
    """Record many receipts in one transaction, each as `record_purchase` would, in order.

    A refused receipt (invalid, no member, its id used for another body) writes nothing,
    so its error stands in its place and the others commit. DuplicateKey (a receipt
    recorded meanwhile) rolls back them all: then record them one by one.
    """
    async with uow:
        outcomes: list[PurchaseOutcome | LoyaltyError] = []
        while len(outcomes) < len(receipts):
            outcomes += await _record_run(uow, program, merchant, receipts[len(outcomes):], now)
        return outcomes


async def _record_run(uow: UnitOfWork, program: Program, merchant: str,
                      receipts: Sequence[ReceiptIn],
                      now: datetime) -> list[PurchaseOutcome | LoyaltyError]:
    """Outcomes of the leading receipts that need no rare path, then of the one that does."""
    run = await _Run.load(uow, program, merchant, receipts, now)
    outcomes: list[PurchaseOutcome | LoyaltyError] = []
    for receipt in receipts:
        outcome = run.take(receipt)
        if outcome is None:
            break
        outcomes.append(outcome)
    await run.write(uow)
    if len(outcomes) < len(receipts):
        outcomes.append(await record_or_refuse(uow, program, merchant, receipts[len(outcomes)],
                                               now))
    return outcomes


@dataclass
class _Book:
    """A member as the run's receipts leave them: row, balance, tier credits in the window."""

    loaded: Member
    member: Member
    balance: int
    window_credits: int


@dataclass
class _Run:
    """Receipts awarded in memory against their members' books, then written per table."""

    program: Program
    merchant: str
    now: datetime
    books: dict[Key, _Book]
    seen: dict[str, Seen]
    credits: list[Credit] = field(default_factory=list)
    tier_credits: list[tuple[int, int, datetime]] = field(default_factory=list)
    notices: list[NewNotification] = field(default_factory=list)
    purchases: list[tuple[NewPurchase, int | None]] = field(default_factory=list)  # lot index
    surveys: list[Trigger] = field(default_factory=list)

    @classmethod
    async def load(cls, uow: UnitOfWork, program: Program, merchant: str,
                   receipts: Sequence[ReceiptIn], now: datetime) -> _Run:
        """Lock the receipts' members and their accounts; read balances, credits, replays."""
        keys = {key for key in map(_key, (r.member for r in receipts)) if key is not None}
        members = await uow.members.lock_named(
            {value for kind, value in keys if kind == "telegram_id" and isinstance(value, int)},
            {value for kind, value in keys if kind == "member_code" and isinstance(value, str)},
            {value for kind, value in keys if kind == "phone" and isinstance(value, str)})
        ids = [member.id for member in members]
        balances = await uow.ledger.lock_balances(ids)
        credits = await uow.tier_credits.totals_since(ids, window_start(program, now))
        books = {m.id: _Book(m, m, balances.get(m.id, 0), credits.get(m.id, 0)) for m in members}
        by_key = {key: books[m.id] for m in members for key in _keys_of(m)}
        seen = await _seen(uow, merchant, [receipt.receipt_id for receipt in receipts])
        return cls(program, merchant, now, by_key, seen)

    def take(self, receipt: ReceiptIn) -> PurchaseOutcome | LoyaltyError | None:
        """The receipt's outcome, or None when it needs `record_or_refuse`."""
        try:
            check_receipt(receipt.receipt_id, receipt.lines, receipt.occurred_at, self.now)
            fingerprint = body_hash(receipt.member, receipt.lines, receipt.occurred_at,
                                    receipt.store)
            seen = self.seen.get(receipt.receipt_id)
            if seen is not None:
                return replay_of(receipt.receipt_id, fingerprint, *seen)
        except (InvalidRequest, Conflict) as refused:
            return refused
        key = _key(receipt.member)
        book = None if key is None else self.books.get(key)
        if book is None or not self._plain(book.member):
            return None
        outcome = self._award(book, receipt, fingerprint)
        self.seen[receipt.receipt_id] = (fingerprint, as_replay(outcome))
        return outcome

    def _plain(self, member: Member) -> bool:
        """Whether a receipt of `member` takes only the common path (see the module)."""
        return (member.forgotten_at is None and member.code is not None
                and not qualifies_referral(self.program, member))

    def _award(self, book: _Book, receipt: ReceiptIn, fingerprint: str) -> PurchaseOutcome:
        """What `_award` of `domain.services.purchases` does, on the book instead of the rows."""
        member, now = book.member, self.now
        assert member.code is not None
        purchase = Purchase(tuple(receipt.lines))
        occurred_at = receipt.occurred_at or now
        earning = earn(self.program, member, purchase, occurred_at, now)
        lot = self._credit(book, receipt.receipt_id, earning.points, occurred_at)
        self._add_tier_credits(book, earning.tier_credits, occurred_at)
        status = tier_status(self.program, member, book.window_credits, now)
        answer = award_answer(receipt.receipt_id, member.code, earning, book.balance,
                              status.tier)
        self.notices += notices(self.program, member, answer, status.tier)
        self.surveys.append(Trigger(member, "purchase", f"receipt:{receipt.receipt_id}",
                                    receipt.store))
        row = new_purchase(self.merchant, member.id, receipt.receipt_id, fingerprint, purchase,
                           earning, None, occurred_at, answer, receipt.store)
        self.purchases.append((row, lot))
        book.member = replace(member, tier=status.tier, tier_below_since=status.below_since,
                              first_purchase_at=member.first_purchase_at or occurred_at)
        return PurchaseOutcome(answer, False, member.id, member.tier)

    def _credit(self, book: _Book, receipt_id: str, points: int,
                occurred_at: datetime) -> int | None:
        """Credit a receipt's points (if any) as a new lot; the lot's index in `credits`."""
        if points <= 0:
            return None
        self.credits.append(purchase_credit(self.program, book.member.id, receipt_id, points,
                                            occurred_at))
        book.balance += points
        return len(self.credits) - 1

    def _add_tier_credits(self, book: _Book, credits: int, occurred_at: datetime) -> None:
        """Add a receipt's tier credits, to the window too when they fall inside it."""
        if credits:
            self.tier_credits.append((book.member.id, credits, occurred_at))
            if occurred_at > window_start(self.program, self.now):
                book.window_credits += credits

    async def write(self, uow: UnitOfWork) -> None:
        """Write what the run's receipts changed: one statement per table, in their order."""
        lot_ids = await uow.ledger.credit_many(self.credits)
        await uow.tier_credits.add_many(self.tier_credits)
        books = list({id(book): book for book in self.books.values()}.values())
        await uow.members.set_tiers([
            (b.member.id, b.member.tier, b.member.tier_below_since) for b in books
            if (b.member.tier, b.member.tier_below_since)
            != (b.loaded.tier, b.loaded.tier_below_since)])
        await uow.members.set_first_purchases([
            (b.member.id, b.member.first_purchase_at) for b in books
            if b.loaded.first_purchase_at is None and b.member.first_purchase_at is not None])
        await uow.outbox.add_many(self.notices, self.now)
        await queue_surveys(uow, self.program, self.surveys, self.now)
        await uow.purchases.add_many([
            replace(row, record=replace(row.record, lot_id=None if lot is None else lot_ids[lot]))
            for row, lot in self.purchases], self.now)


def _key(ref: MemberRef) -> Key | None:
    """The stored value `ref` names a member by, as `find_member` normalises it; None when
    it cannot be normalised (then `find_member` refuses it)."""
    try:
        if ref.kind == "telegram_id":
            return ref.kind, int(ref.value)
        if ref.kind == "member_code":
            return ref.kind, normalize_code(ref.value)
        return ref.kind, normalize_phone(ref.value)
    except (InvalidRequest, ValueError):
        return None


def _keys_of(member: Member) -> list[Key]:
    """Every reference that names `member`."""
    keys: list[tuple[str, int | str | None]] = [
        ("telegram_id", member.telegram_id), ("member_code", member.code),
        ("phone", member.phone)]
    return [(kind, value) for kind, value in keys if value is not None]


async def _seen(uow: UnitOfWork, merchant: str, receipt_ids: list[str]) -> dict[str, Seen]:
    """Receipts among `receipt_ids` recorded or held before, with what a retry is answered."""
    seen: dict[str, Seen] = {
        held.receipt_id: (held.body_hash, held_outcome(held.receipt_id, held.phone, True))
        for held in await uow.purchases.held_by_receipts(merchant, receipt_ids)}
    seen.update({record.receipt_id: (record.body_hash, recorded_replay(record))
                 for record in await uow.purchases.by_receipts(merchant, receipt_ids)})
    return seen
