"""/help lists every command the person can use, in their language: customers theirs,
cashiers and admins their staff commands too (the roles their features declare, as in their
`/` menu)."""

from __future__ import annotations

import dataclasses

import pytest
from markupsafe import escape

from bot.conversation.events import Person
from bot.conversation.menus import COMMAND_ROLES
from bot.conversation.texts import key_values
from tests.conversation.conftest import ADMIN, CASHIER, hire, joined, said, text_of

CUSTOMER = Person(1001, first_name="Ann", language_code="en")


def in_language(person: Person, locale: str) -> Person:
    return dataclasses.replace(person, language_code=locale)


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("role", ["customer", "staff", "admin"])
async def test_help_lists_every_command_of_the_role(desk, ctx, role, locale):
    person = in_language({"customer": CUSTOMER, "staff": CASHIER, "admin": ADMIN}[role], locale)
    if role == "staff":
        await hire(desk, person)
    await joined(desk, ctx, person)
    shown = await text_of(desk, said(person, "/help"))
    for name, description in key_values("commands", locale).items():
        assert f"/{name}: {escape(description)}" in shown
    staff_described = key_values("staff_commands", locale)
    for name, need in COMMAND_ROLES.items():
        allowed = role == "admin" or (role == "staff" and need == "staff")
        assert (f"/{name}: {escape(staff_described[name])}" in shown) == allowed, name
    assert ("<b>Staff</b>" in shown or "<b>Personal</b>" in shown) == (role != "customer")


@pytest.mark.parametrize("locale", ["en", "es"])
async def test_an_admin_who_never_joined_gets_help_too(desk, locale):
    shown = await text_of(desk, said(in_language(ADMIN, locale), "/help"))
    described = key_values("staff_commands", locale)
    assert all(f"/{name}: {escape(described[name])}" in shown for name in COMMAND_ROLES)
    assert f"/start: {key_values('commands', locale)['start']}" in shown


async def test_the_help_button_shows_the_same(desk, ctx):
    await hire(desk)
    await joined(desk, ctx, CASHIER)
    assert await text_of(desk, said(CASHIER, "❓ Help")) == await text_of(
        desk, said(CASHIER, "/help")
    )
