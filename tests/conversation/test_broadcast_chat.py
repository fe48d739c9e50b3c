"""/broadcast in chat: message, button, segment with a live count, preview, send, stop."""

from __future__ import annotations

import dataclasses

import pytest

from bot.broadcast_status import refresh_statuses
from bot.conversation.actions import Answer, Edit, Send
from bot.conversation.core import Conversation
from bot.conversation.events import Incoming, Person
from domain.services.broadcasts import broadcast_progress
from domain.services.members import update_settings
from tests.conversation.conftest import data_of, press, said

ADMIN = Person(9001, first_name="Alma", language_code="en")
MEMBERS = [
    Person(2000 + i, first_name=f"M{i}", language_code="es" if i % 2 else "en") for i in range(6)
]


@pytest.fixture
async def desk(ctx) -> Conversation:
    """The core with one admin and six members, one of whom turned offers off."""
    conversation = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))
    for person in MEMBERS:
        await conversation.handle(said(person, "/start"))
    async with ctx.reader() as uow:
        quiet = await uow.members.by_telegram_id(MEMBERS[0].id)
    await update_settings(ctx.writer(), quiet.id, marketing_opt_in=False)
    return conversation


def formatted(person: Person, text: str, html: str) -> Incoming:
    return Incoming("message", person, chat_id=person.id, text=text, html=html)


async def test_compose_segment_preview_and_send(desk, ctx):
    [ask] = await desk.handle(said(ADMIN, "/broadcast"))
    assert "New broadcast" in ask.text
    [refused] = await desk.handle(formatted(ADMIN, "x", "<blink>x</blink>"))
    assert "not valid Telegram HTML" in refused.text
    [button_question] = await desk.handle(formatted(ADMIN, "Big sale", "<b>Big</b> sale"))
    assert "reward:" in button_question.text
    [refused] = await desk.handle(said(ADMIN, "Shop | ftp:nothing"))
    assert "cannot be sent" in refused.text
    [segment] = await desk.handle(said(ADMIN, "Shop now | https://example.com/sale"))
    assert "everyone" in segment.text
    assert "<b>5</b> members" in segment.text
    assert [b.text for b in segment.buttons[1]] == ["English", "Español"]  # not "en", "es"
    _, spanish = await desk.handle(press(ADMIN, data_of(segment, "Español")))
    assert "language es" in spanish.text
    assert "<b>3</b> members" in spanish.text
    [refused] = await desk.handle(said(ADMIN, "inactive soon"))
    assert "Please type a whole number" in refused.text
    [refused] = await desk.handle(said(ADMIN, "lately 30"))
    assert "did not understand" in refused.text
    [richer] = await desk.handle(said(ADMIN, "balance 1000"))
    assert "<b>0</b> members" in richer.text
    [everyone] = await desk.handle(said(ADMIN, "everyone"))
    _, preview, confirm = await desk.handle(press(ADMIN, data_of(everyone, "👁 Preview")))
    assert preview == Send(ADMIN.id, "<b>Big</b> sale", buttons=preview.buttons)
    assert preview.buttons[0][0].url == "https://example.com/sale"
    assert "Send it to <b>5</b> members" in confirm.text
    [queued] = await desk.handle(press(ADMIN, data_of(confirm, "📣 Send now"), message_id=77))
    assert isinstance(queued, Answer)
    assert "Broadcast #1 is queued" in queued.text
    [status] = await statuses_edited(ctx)  # the status loop alone turns it into the status
    assert (status.chat_id, status.message_id) == (ADMIN.id, 77)
    assert "Sent 0 / 5" in status.text
    [again] = await desk.handle(press(ADMIN, data_of(confirm, "📣 Send now"), message_id=77))
    assert isinstance(again, Answer)
    assert "Already done" in again.text
    [listing] = await desk.handle(said(ADMIN, "/broadcasts"))
    assert "#1" in listing.text
    assert "sent 0/5" in listing.text
    [stopped] = await desk.handle(press(ADMIN, data_of(listing, "⏹ #1")))
    assert "5 messages will not be sent" in stopped.text


async def test_members_cannot_broadcast(desk, ctx):
    unknown = [a.text for a in await desk.handle(said(MEMBERS[1], "/nonsense"))]
    assert [a.text for a in await desk.handle(said(MEMBERS[1], "/broadcast"))] == unknown
    assert [a.text for a in await desk.handle(said(MEMBERS[1], "/broadcasts"))] == unknown
    async with ctx.reader() as uow:
        assert await uow.broadcasts.get(1) is None
    assert await broadcast_progress(ctx.reader(), 1) is None


async def test_a_photo_alone_is_a_message_and_its_preview_is_that_photo(desk):
    await desk.handle(said(ADMIN, "/broadcast"))
    photo = Incoming("message", ADMIN, chat_id=ADMIN.id, photo_file_id="AgACAgIAAxkBAAIBZ2abc")
    [button_question] = await desk.handle(photo)
    assert "reward:" in button_question.text
    _, segment = await desk.handle(press(ADMIN, data_of(button_question, "No button")))
    _, preview, _ = await desk.handle(press(ADMIN, data_of(segment, "👁 Preview")))
    assert (preview.photo, preview.text) == ("AgACAgIAAxkBAAIBZ2abc", "")


async def statuses_edited(ctx) -> list[Edit]:
    """The edits one pass of the broadcast status loop makes."""
    edits: list[Edit] = []

    class Recorder:
        async def edit(self, action: Edit) -> None:
            edits.append(action)

    await refresh_statuses(ctx.writer, ctx.reader, Recorder(), 25.0)
    return edits
