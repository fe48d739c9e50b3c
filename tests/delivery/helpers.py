"""Builders for delivery tests: members straight in the database, a fake Bot API and clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.conversation.actions import Answer, Edit, Menu, Send
from bot.delivery import DeliverySettings, MemorySlots, RateLimiter, Sender, SlotStore
from bot.telegram.pace import Pace
from storage.database import Database
from storage.tables import AccountRow, MemberRow, PurchaseRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW


async def add_members(
    database: Database, telegram_ids: range | list[int], **columns: Any
) -> list[int]:
    """Members (ids as given telegram ids) with these column values; their member ids."""
    rows = [
        {
            "id": tid,
            "telegram_id": tid,
            "locale": "en",
            "marketing_opt_in": True,
            "reachable": True,
            "joined_at": NOW - timedelta(days=365),
            "tier": "Member",
            "reminders_opt_in": True,
            **columns,
        }
        for tid in telegram_ids
    ]
    async with database.writer.begin() as conn:
        await conn.execute(insert(MemberRow), rows)
    return [row["id"] for row in rows]


async def set_balance(database: Database, member_id: int, points: int) -> None:
    """A cached balance (enough for segment tests, which read only this)."""
    async with database.writer.begin() as conn:
        await conn.execute(insert(AccountRow).values(member_id=member_id, balance=points))


async def add_purchase(database: Database, member_id: int, category: str, at: datetime) -> None:
    """A receipt of one line in `category`."""
    line = {"sku": "X", "category": category, "quantity": 1, "unit_price": "1.00"}
    async with database.writer.begin() as conn:
        await conn.execute(
            insert(PurchaseRow).values(
                merchant="main",
                receipt_id=f"R-{member_id}-{category}-{at.isoformat()}",
                member_id=member_id,
                body_hash="x",
                total=1,
                points_awarded=1,
                tier_credits=1,
                refunded=0,
                points_clawed=0,
                credits_clawed=0,
                lines={"lines": [line]},
                answer={},
                occurred_at=at,
                recorded_at=at,
            )
        )


def unlimited() -> Pace:
    """A pace that never makes a send wait (the tests' senders keep their own pace)."""
    return Pace(rate=1e9, burst=10**6, chat_rate=1e9, chat_burst=10**6)


@dataclass
class FakeBotApi:
    """Records sends with increasing message ids; raises queued errors first."""

    errors: list[Exception] = field(default_factory=list)
    sent: list[Send] = field(default_factory=list)
    pace: Pace = field(default_factory=unlimited)

    async def send(self, action: Send) -> int:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(action)
        return len(self.sent)

    async def edit(self, action: Edit) -> None:
        raise AssertionError("the outbox only sends")

    async def answer(self, action: Answer) -> None:
        raise AssertionError("the outbox only sends")

    async def menu(self, action: Menu) -> None:
        raise AssertionError("the outbox only sends")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def new_sender(
    database,
    api: FakeBotApi,
    clock: FakeClock,
    worker: str = "w1",
    store: SlotStore | None = None,
    **options: float,
) -> Sender:
    """A sender at 1000/s unless told otherwise; `store` shares the pace with other senders."""
    settings = DeliverySettings(**{"rate": 1000.0, **options})  # type: ignore[arg-type]
    limiter = RateLimiter(store or MemorySlots(), settings.rate, settings.spacing)
    return Sender(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        api,
        limiter,
        settings,
        clock=clock,
        worker=worker,
    )


async def deliver(sender: Sender) -> None:
    """One pass, waited for to the end."""
    await sender.send_due()
    await sender.drain()
