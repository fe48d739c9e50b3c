"""Running a use case in one transaction, again once if a concurrent twin won a unique key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.errors import DuplicateKey
from domain.ports import UnitOfWork

T = TypeVar("T")


async def once(uow: UnitOfWork, work: Callable[[], Awaitable[T]]) -> T:
    """`work` in one transaction; on DuplicateKey, in a fresh one that sees the twin's row.

    Use cases keyed by a client's id (refund id, button nonce) answer the second time as a
    replay of what the twin recorded, so a double submit never does the work twice.
    """
    try:
        async with uow:
            return await work()
    except DuplicateKey:
        async with uow:
            return await work()
