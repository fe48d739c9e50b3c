"""A conversation core on the test database, with a fixed clock, and the helpers that the
conversation tests share: people, messages and button presses, joining, hiring a cashier,
and five simultaneous taps of one button on a slow database."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import re
from types import TracebackType
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.conversation.actions import Action, Answer, Edit, Send
from bot.conversation.context import Context
from bot.conversation.core import Conversation
from bot.conversation.events import Incoming, Person
from domain.services.points import adjust_points
from messages.render import render
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW

ADMIN = Person(9001, first_name="Alma", language_code="en")
CASHIER = Person(9002, first_name="Carl", language_code="en")
OTHER = Person(9003, first_name="Olga", language_code="es")
ANN = Person(1001, first_name="Ann", language_code="en")
UNKNOWN = "I did not catch that"
DELAY = 0.05  # seconds every repository call of a slow database answers late
TAPS = 5
APOLOGY = render("error", "en")
ALREADY_DONE = render("refusal", "en", reason="already_done")


@pytest.fixture
def ctx(database, program) -> Context:
    """Handlers' context over the test database."""
    return Context(
        program=program,
        writer=lambda: SqlUnitOfWork(database),
        reader=lambda: SqlUnitOfWork(database, read_only=True),
        clock=lambda: NOW,
        bot_username="northwind_loyalty_bot",
        secret=b"test-secret",
    )


@pytest.fixture
def conversation(ctx: Context) -> Conversation:
    """The core under test."""
    return Conversation(ctx)


@pytest.fixture
def desk(ctx: Context) -> Conversation:
    """The core with one admin configured."""
    return Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))


def said(person: Person, text: str, update_id: int = 1) -> Incoming:
    """A private text message."""
    return Incoming("message", person, chat_id=person.id, text=text, update_id=update_id)


def press(person: Person, data: str, message_id: int = 10, callback_id: str = "cb") -> Incoming:
    """A press of the button whose data is `data`, under message `message_id`."""
    return Incoming(
        "callback",
        person,
        chat_id=person.id,
        callback_id=callback_id,
        callback_data=data,
        message_id=message_id,
    )


def data_of(action, text: str) -> str:
    """The callback data of the button labelled `text` (or starting with it)."""
    for row in action.buttons:
        for button in row:
            if button.text.startswith(text):
                return button.data
    raise AssertionError(f"no button {text!r} in {action.buttons}")


async def text_of(conversation: Conversation, event: Incoming) -> str:
    """Every text the core sends or edits in answer to `event`, one per line."""
    actions = await conversation.handle(event)
    return "\n".join(a.text for a in actions if isinstance(a, Send | Edit))


async def joined(conversation: Conversation, ctx, person: Person, points: int = 0) -> str:
    """`person` joins with /start, given `points` more than the signup bonus; their code."""
    await conversation.handle(said(person, "/start"))
    async with ctx.reader() as uow:
        member = await uow.members.by_telegram_id(person.id)
    if points:
        await adjust_points(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            points=points,
            reason="gift",
            actor="test",
            now=NOW,
        )
    return member.code


async def member_with(conversation, ctx, person: Person, points: int) -> int:
    """`person` joins with /start, given `points` more than the signup bonus; their id."""
    await conversation.handle(said(person, "/start"))
    async with ctx.reader() as uow:
        member = await uow.members.by_telegram_id(person.id)
    if points:
        await adjust_points(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            points=points,
            reason="welcome gift",
            actor="test",
            now=NOW,
        )
    return member.id


async def hire(desk: Conversation, person: Person = CASHIER) -> None:
    """The admin invites `person` with /staff add, and they open the link."""
    invite = await text_of(desk, said(ADMIN, "/staff add"))
    payload = re.search(r"\?start=(s-[A-Za-z0-9_-]+)", invite)[1]
    welcome = await text_of(desk, said(person, f"/start {payload}"))
    assert "/sale" in welcome


class SlowRepository:
    """A repository whose every call answers `delay` seconds after the database did."""

    def __init__(self, inner: Any, delay: float) -> None:
        self._inner, self._delay = inner, delay

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        async def slowed(*args: Any, **kwargs: Any) -> Any:
            result = await attribute(*args, **kwargs)
            await asyncio.sleep(self._delay)
            return result

        return slowed


class SlowUnitOfWork:
    """A unit of work whose repositories are all slow: a loaded or distant database."""

    def __init__(self, inner: SqlUnitOfWork, delay: float) -> None:
        self._inner, self._delay = inner, delay

    async def __aenter__(self) -> SlowUnitOfWork:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return SlowRepository(getattr(self._inner, name), self._delay)


def slowed(ctx: Context) -> Conversation:
    """The core over the same database, every repository call DELAY seconds late."""
    return Conversation(
        dataclasses.replace(
            ctx,
            writer=lambda: SlowUnitOfWork(ctx.writer(), DELAY),  # type: ignore[arg-type]
            reader=lambda: SlowUnitOfWork(ctx.reader(), DELAY),
        )
    )  # type: ignore[arg-type]


async def tap_at_once(ctx: Context, person: Person, data: str) -> list[list[Action]]:
    """The same button pressed TAPS times at once (as TAPS updates, TAPS callback ids)."""
    slow = slowed(ctx)
    return list(
        await asyncio.gather(
            *(slow.handle(press(person, data, callback_id=f"tap{i}")) for i in range(TAPS))
        )
    )


def answered_politely(replies: list[list[Action]]) -> None:
    """Every tap was answered (its spinner stopped), none with the apology."""
    for actions in replies:
        assert any(isinstance(a, Answer) for a in actions)
        assert not any(isinstance(a, Send | Edit) and a.text == APOLOGY for a in actions)


def already_done(replies: list[list[Action]]) -> int:
    """How many taps were told it was already done (and nothing else)."""
    return sum(
        actions == [Answer(actions[0].callback_id, ALREADY_DONE)]  # type: ignore[union-attr]
        for actions in replies
    )


async def count(database, table: Any, *where: Any) -> int:
    """How many rows of `table` match `where`."""
    async with database.reader.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar()
