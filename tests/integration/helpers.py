"""Small builders shared by the service tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import text

from domain.earning import PurchaseLine
from domain.models import Member
from domain.program import Program
from domain.services.members import join
from domain.services.purchases import MemberRef, PurchaseOutcome, ReceiptIn, record_purchase
from storage.database import Database
from storage.tables import metadata
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW


def line(sku: str, category: str, quantity: int, price: str) -> PurchaseLine:
    """A receipt line."""
    return PurchaseLine(sku, category, quantity, Decimal(price))


async def new_member(
    uow: SqlUnitOfWork,
    program: Program,
    telegram_id: int,
    referral_code: str | None = None,
    now: datetime = NOW,
) -> Member:
    """Join a person and return the member."""
    result = await join(
        uow,
        program,
        telegram_id=telegram_id,
        first_name=f"User{telegram_id}",
        language_code="en",
        now=now,
        referral_code=referral_code,
    )
    return result.member


async def buy(
    uow: SqlUnitOfWork,
    program: Program,
    member: Member,
    receipt: str,
    *lines: PurchaseLine,
    now: datetime = NOW,
) -> PurchaseOutcome:
    """Record a purchase for a member by their code."""
    assert member.code is not None
    return await record_purchase(
        uow,
        program,
        ReceiptIn(receipt, MemberRef("member_code", member.code), list(lines)),
        now=now,
    )


async def balance(uow: SqlUnitOfWork, member: Member) -> int:
    """A member's balance, read in its own transaction."""
    async with uow:
        return await uow.ledger.balance(member.id)


async def reset(database: Database) -> None:
    """Empty every table and restart the ids."""
    async with database.writer.begin() as conn:
        if database.dialect == "postgresql":
            names = ", ".join(t.name for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
