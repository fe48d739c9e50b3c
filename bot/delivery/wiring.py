"""The sender `run` starts: settings in, a `Sender` over the configured database out."""

from __future__ import annotations

from bot.conversation.buttons import Signer
from bot.delivery.pacing import MemorySlots, RateLimiter, SlotStore
from bot.delivery.sender import DeliverySettings, Sender
from bot.settings import Settings
from bot.telegram.replies import BotApi
from domain.program import Program
from storage.database import Database
from storage.repositories.pacing import SqlSlots
from storage.uow import UnitsOfWork


def slot_store(database: Database) -> SlotStore:
    """Shared pacing on PostgreSQL (several processes); in memory on SQLite (one process)."""
    return SqlSlots(database) if database.dialect == "postgresql" else MemorySlots()


def outbox_sender(
    database: Database,
    api: BotApi,
    settings: Settings,
    sign: Signer | None = None,
    program: Program | None = None,
) -> Sender:
    """A sender at the configured rate, with paid broadcasts if enabled; its messages show
    `program`'s titles in each member's language."""
    options = DeliverySettings(
        rate=settings.delivery_rate, paid=settings.paid_broadcast, lease=settings.delivery_lease
    )
    units = UnitsOfWork(database)
    return Sender(
        units.writer,
        units.reader,
        api,
        RateLimiter(slot_store(database), options.rate, options.spacing),
        options,
        sign=sign,
        program=program,
    )
