"""The operations the benchmarks time, each one call through the service layer.

A factory returns an operation bound to its own `SqlUnitOfWork`, so concurrent tasks
never share a session.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

from bot.api.batching import PurchaseBatcher
from domain.earning import PurchaseLine
from domain.ports import UnitOfWork
from domain.program import Program
from domain.services.points import account_summary
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.benchmarks.bulk import member_code

Operation = Callable[[], Awaitable[object]]
OperationFactory = Callable[[], Operation]

MERCHANT = "bench"
CATALOG = (  # sku, category, unit price: plain, item-bonus and multiplier lines
    ("LATTE", "drinks", Decimal("4.50")),
    ("BEANS-1KG", "beans", Decimal("18.00")),
    ("TRAIL-RUNNER", "shoes", Decimal("89.99")),
    ("GIFT-25", "gift-cards", Decimal("25.00")),
    ("MUFFIN", "food", Decimal("3.25")),
)


def unit_of_work(database: Database, read_only: bool = False) -> UnitOfWork:
    """A `SqlUnitOfWork`, seen as the domain port it implements."""
    return SqlUnitOfWork(database, read_only=read_only)


def random_lines(rng: random.Random) -> list[PurchaseLine]:
    """One to three receipt lines from the catalog, quantities 1..3."""
    return [
        PurchaseLine(sku, category, rng.randint(1, 3), price)
        for sku, category, price in rng.sample(CATALOG, rng.randint(1, 3))
    ]


def purchases(
    database: Database, program: Program, members: int, seed: int = 1
) -> OperationFactory:
    """`record_purchase` of a fresh receipt for a random member named by member code."""
    receipts = itertools.count(1)
    rng = random.Random(seed)

    def factory() -> Operation:
        uow = unit_of_work(database)

        async def purchase() -> object:
            code = member_code(rng.randint(1, members))
            receipt = ReceiptIn(
                f"r-{next(receipts)}", MemberRef("member_code", code), random_lines(rng)
            )
            return await record_purchase(
                uow, program, receipt, now=datetime.now(UTC), merchant=MERCHANT
            )

        return purchase

    return factory


def grouped_purchases(
    database: Database, program: Program, members: int, seed: int = 1
) -> OperationFactory:
    """The receipts of `purchases`, every caller's through one group commit (as the API)."""
    receipts = itertools.count(1)
    rng = random.Random(seed)
    batcher = PurchaseBatcher(
        lambda: unit_of_work(database), program, MERCHANT, lambda: datetime.now(UTC)
    )

    def factory() -> Operation:
        async def purchase() -> object:
            code = member_code(rng.randint(1, members))
            return await batcher.record(
                ReceiptIn(f"g-{next(receipts)}", MemberRef("member_code", code), random_lines(rng))
            )

        return purchase

    return factory


def summaries(
    database: Database, program: Program, members: int, seed: int = 2
) -> OperationFactory:
    """`account_summary` of a random member in a read-only unit of work."""
    rng = random.Random(seed)

    def factory() -> Operation:
        uow = unit_of_work(database, read_only=True)

        async def summary() -> object:
            return await account_summary(uow, program, rng.randint(1, members), datetime.now(UTC))

        return summary

    return factory


def balances(database: Database, members: int, seed: int = 3) -> OperationFactory:
    """`ledger.balance` of a random member in a read-only unit of work."""
    rng = random.Random(seed)

    def factory() -> Operation:
        uow = unit_of_work(database, read_only=True)

        async def balance() -> object:
            async with uow:
                return await uow.ledger.balance(rng.randint(1, members))

        return balance

    return factory
