"""Remembering which step of a multi-step chat a person is on (survives restarts)."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.models import ChatState
from domain.ports import UnitOfWork

STATE_LIFETIME = timedelta(hours=1)  # an abandoned step is forgotten after this


async def remember_step(uow: UnitOfWork, telegram_id: int, step: str, data: dict[str, str],
                        now: datetime) -> None:
    """Start or move to `step`, replacing any earlier one."""
    async with uow:
        await uow.conversations.put(telegram_id, ChatState(step, data, now))


async def current_step(uow: UnitOfWork, telegram_id: int, now: datetime) -> ChatState | None:
    """The step a person is on, unless they left it more than an hour ago."""
    async with uow:
        state = await uow.conversations.get(telegram_id)
    if state is None or now - state.updated_at > STATE_LIFETIME:
        return None
    return state


async def forget_step(uow: UnitOfWork, telegram_id: int) -> None:
    """Leave any multi-step chat."""
    async with uow:
        await uow.conversations.clear(telegram_id)
