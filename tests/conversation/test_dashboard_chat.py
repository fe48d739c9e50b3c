"""/dashboard in chat: an admin gets a one-time sign-in link in a URL button (under
WEB_URL); it signs in once. Without WEB_URL the admin learns how to turn it on; cashiers and
customers get the unknown-command reply. With WEB_URL, staff chats' menu buttons open the
cashier scanner."""

from __future__ import annotations

import dataclasses

import pytest

from bot.conversation.actions import Send
from bot.conversation.core import Conversation
from bot.conversation.menus import staff_commands, staff_menus
from domain.card_codes import card_key
from domain.errors import InvalidRequest
from domain.services.dashboard import login_key, take_login
from messages.render import render
from tests.conversation.conftest import ADMIN, ANN, CASHIER, OTHER, UNKNOWN, hire, said, text_of

WEB_URL = "https://shop.example"


@pytest.fixture
def admin_desk(ctx) -> Conversation:
    return Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id}), web_url=WEB_URL))


async def test_an_admin_gets_a_link_that_signs_in_once(admin_desk, ctx):
    [reply] = await admin_desk.handle(said(ADMIN, "/dashboard"))
    assert isinstance(reply, Send)
    assert "The link signs you in once, within 5 minutes" in reply.text
    [[link]] = reply.buttons
    assert link.text == "📊 Open the dashboard"
    assert link.url is not None
    assert link.url.startswith(f"{WEB_URL}/dashboard/login/")
    token = link.url.rsplit("/", 1)[1]
    key = login_key(card_key(ctx.secret))  # as the web pages check it
    assert await take_login(ctx.writer(), token, ctx.clock(), key) == ADMIN.id
    with pytest.raises(InvalidRequest):
        await take_login(ctx.writer(), token, ctx.clock(), key)
    [again] = await admin_desk.handle(said(ADMIN, "/dashboard"))
    assert again.buttons[0][0].url != link.url  # a new link each time


async def test_without_web_url_the_admin_learns_how_to_turn_it_on(ctx):
    desk = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))
    assert await text_of(desk, said(ADMIN, "/dashboard")) == render("dashboard_off", "en")


async def test_a_spanish_speaking_admin_reads_it_in_spanish(ctx):
    desk = Conversation(dataclasses.replace(ctx, admins=frozenset({OTHER.id}), web_url=WEB_URL))
    [reply] = await desk.handle(said(OTHER, "/dashboard"))
    assert "una vez, en 5 minutos" in reply.text
    assert reply.buttons[0][0].text == "📊 Abrir el panel"


async def test_cashiers_and_customers_get_the_unknown_command_reply(admin_desk):
    await hire(admin_desk)
    await admin_desk.handle(said(ANN, "/start"))
    await admin_desk.handle(said(CASHIER, "/start"))
    for person in (CASHIER, ANN):
        unknown = await text_of(admin_desk, said(person, "/nonsense"))
        assert UNKNOWN in unknown
        assert await text_of(admin_desk, said(person, "/dashboard")) == unknown
    assert "dashboard" in dict(staff_commands("admin", "en"))
    assert "dashboard" not in dict(staff_commands("staff", "en"))


async def test_with_web_url_staff_menus_open_the_scanner(ctx):
    desk = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id}), web_url=WEB_URL))
    await hire(desk)
    menus = {menu.chat_id: menu for menu in await staff_menus(desk.ctx)}
    assert menus[ADMIN.id].app == ("📷 Scanner", f"{WEB_URL}/scanner/")
    assert menus[CASHIER.id].app == ("📷 Scanner", f"{WEB_URL}/scanner/")
    without = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))
    assert {menu.app for menu in await staff_menus(without.ctx)} == {None}
