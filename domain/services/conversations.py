"""Remembering which step of a multi-step chat a person is on (survives restarts)."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.models import ChatState, Member
from domain.ports import UnitOfWork

STATE_LIFETIME = timedelta(hours=1)  # an abandoned step is forgotten after this


async def remember_step(
    uow: UnitOfWork, telegram_id: int, step: str, data: dict[str, str], now: datetime
) -> None:
    """Start or move to `step`, replacing any earlier one."""
    async with uow:
        await uow.conversations.put(telegram_id, ChatState(step, data, now))


async def forget_step(uow: UnitOfWork, telegram_id: int) -> None:
    """Leave any multi-step chat."""
    async with uow:
        await uow.conversations.clear(telegram_id)


async def take_step(
    uow: UnitOfWork, telegram_id: int, step: str, now: datetime
) -> ChatState | None:
    """Inside the caller's open unit of work: the person's state at `step`, taken so that no
    other transaction can take it too; None when it is gone, at another step or abandoned.

    A confirming step takes its state in the transaction that acts on it: of simultaneous
    taps, one acts and the rest find nothing, and a failure puts the state back.
    """
    state = await uow.conversations.take(telegram_id, step)
    return state if state is not None and now - state.updated_at <= STATE_LIFETIME else None


async def member_and_step(
    uow: UnitOfWork, telegram_id: int, now: datetime
) -> tuple[Member | None, ChatState | None]:
    """Who is writing and which step they are on, read together (once per incoming update)."""
    async with uow:
        member, state = await uow.conversations.member_and_step(telegram_id)
    if state is not None and now - state.updated_at > STATE_LIFETIME:
        state = None
    return member, state
