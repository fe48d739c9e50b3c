"""/forget then /start: welcomed back on a fresh card, with no second bonus."""

from __future__ import annotations

from bot.conversation.events import Person
from domain.referrals import referral_payload
from tests.conversation.conftest import data_of, press, said

ANN = Person(1001, first_name="Ann", language_code="en")
BEA = Person(1003, first_name="Bea", language_code="es")
BOB = Person(1002, first_name="Bob", language_code="en")


async def forgotten(conversation, person: Person) -> None:
    await conversation.handle(said(person, "/start"))
    [ask] = await conversation.handle(said(person, "/forget"))
    await conversation.handle(press(person, data_of(ask, "🗑")))


async def test_a_returning_person_is_welcomed_back_without_a_bonus(conversation, ctx):
    await forgotten(conversation, ANN)
    [welcome] = await conversation.handle(said(ANN, "/start"))
    assert "Welcome back to <b>Northwind Rewards</b>, Ann!" in welcome.text
    assert "starts at 0 points" in welcome.text
    [points] = await conversation.handle(said(ANN, "/balance"))
    assert "<b>0</b>" in points.text


async def test_a_friends_link_does_not_count_for_a_returning_person(conversation, ctx):
    await conversation.handle(said(BOB, "/start"))
    async with ctx.reader() as uow:
        bob = await uow.members.by_telegram_id(BOB.id)
    await forgotten(conversation, BEA)
    welcome, _ = await conversation.handle(said(BEA, f"/start {referral_payload(bob.code)}"))
    assert "de nuevo" in welcome.text
    assert "no contó" in welcome.text
