"""A conversation core on the test database, with a fixed clock."""

from __future__ import annotations

import pytest

from bot.conversation.context import Context
from bot.conversation.core import Conversation
from bot.conversation.events import Incoming, Person
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW


@pytest.fixture
def ctx(database, program) -> Context:
    """Handlers' context over the test database."""
    return Context(program=program, writer=lambda: SqlUnitOfWork(database),
                   reader=lambda: SqlUnitOfWork(database, read_only=True), clock=lambda: NOW,
                   bot_username="northwind_loyalty_bot", secret=b"test-secret")


@pytest.fixture
def conversation(ctx: Context) -> Conversation:
    """The core under test."""
    return Conversation(ctx)


def said(person: Person, text: str, update_id: int = 1) -> Incoming:
    """A private text message."""
    return Incoming("message", person, chat_id=person.id, text=text, update_id=update_id)
