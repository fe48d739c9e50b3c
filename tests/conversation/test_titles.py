"""Program titles given per locale read in the member's language everywhere they appear:
tiers, rewards and causes in the chat, in the staff's screens and in outbox messages."""

from __future__ import annotations

import dataclasses

import pytest

from bot.conversation.core import Conversation
from bot.conversation.events import Person
from bot.delivery.compose import notification_message
from domain.models import Notification
from domain.program import Program
from tests.conversation.conftest import OTHER, data_of, member_with, press, said

ES = "es"
ADMIN = Person(9004, first_name="Alba", language_code="es")


def titled(program: Program) -> Program:
    """The bundled program with Spanish titles for its tiers, first reward and first cause."""
    spanish = {"Member": "Socio", "Insider": "Habitual", "Prime": "Preferente"}
    tiers = tuple(
        dataclasses.replace(t, titles=(("en", t.name), (ES, spanish[t.name])))
        for t in program.tiers.levels
    )
    coffee, *rewards = program.rewards
    trees, *causes = program.causes
    return dataclasses.replace(
        program,
        tiers=dataclasses.replace(program.tiers, levels=tiers),
        rewards=(
            dataclasses.replace(coffee, titles=(("en", "Free coffee"), (ES, "Café gratis"))),
            *rewards,
        ),
        causes=(
            dataclasses.replace(trees, titles=(("en", "Plant trees"), (ES, "Plantar árboles"))),
            *causes,
        ),
    )


@pytest.fixture
def spanish(ctx):
    return Conversation(
        dataclasses.replace(ctx, program=titled(ctx.program), admins=frozenset({ADMIN.id}))
    )


async def code_of(ctx) -> str:
    async with ctx.reader() as uow:
        member = await uow.members.by_telegram_id(OTHER.id)
    return member.code


async def text_of(bot: Conversation, text: str) -> str:
    [reply, *_] = await bot.handle(said(OTHER, text))
    return reply.text


async def test_the_chat_shows_titles_in_the_members_language(spanish, ctx):
    await member_with(spanish, ctx, OTHER, 450)  # 500 points
    assert "Nivel: <b>Socio</b>" in await text_of(spanish, "/balance")
    assert "<b>Habitual</b>" in await text_of(spanish, "/balance")  # the next tier
    [catalogue] = await spanish.handle(said(OTHER, "/rewards"))
    assert "✅ Café gratis: 150 puntos" in catalogue.text
    assert "(Habitual o superior)" in catalogue.text
    _, detail = await spanish.handle(press(OTHER, data_of(catalogue, "Café gratis · 150")))
    assert "🎁 <b>Café gratis</b>" in detail.text
    _, voucher = await spanish.handle(press(OTHER, data_of(detail, "✅")))
    assert "<b>Café gratis</b>" in voucher.text
    assert "Café gratis" in await text_of(spanish, "/vouchers")
    [causes] = await spanish.handle(said(OTHER, "/donate"))
    assert "<b>Plantar árboles</b>" in causes.text
    assert data_of(causes, "Plantar árboles")


async def test_welcome_lists_the_tiers_in_the_members_language(spanish):
    [welcome, *_] = await spanish.handle(said(OTHER, "/start"))
    assert "(Socio → Habitual → Preferente)" in welcome.text


async def test_staff_screens_show_titles_in_the_staffs_language(spanish, ctx):
    await member_with(spanish, ctx, OTHER, 0)
    await spanish.handle(said(ADMIN, "/start"))
    await spanish.handle(said(ADMIN, "/broadcast"))
    [ask] = await spanish.handle(said(ADMIN, "Hola"))
    *_, segment = await spanish.handle(press(ADMIN, data_of(ask, "Sin botón")))
    shown = [b.text for row in segment.buttons for b in row]
    assert shown[:3] == ["Socio", "Habitual", "Preferente"]
    _, picked = await spanish.handle(press(ADMIN, data_of(segment, "Habitual")))
    assert "nivel Habitual" in picked.text
    [summary] = await spanish.handle(said(ADMIN, f"/member {await code_of(ctx)}"))
    assert "Nivel: <b>Socio</b>" in summary.text


def test_outbox_messages_read_titles_in_the_members_language(program):
    spanish = titled(program)

    def note(template: str, **context: object) -> str:
        message = notification_message(
            Notification(1, 1, 42, ES, template, context, 0), 42, False, program=spanish
        )
        return message.text

    assert "Ahora eres <b>Preferente</b>" in note("tier_up", tier="Prime")
    assert "<b>Socio</b> (antes Habitual)" in note("tier_down", tier="Member", previous="Insider")
    assert "<b>Café gratis</b>" in note(
        "nudge_reward_affordable", reward="coffee", cost=150, balance=200
    )
    assert "Nivel: Habitual" in note(
        "points_earned",
        receipt_id="R-1",
        points_awarded=10,
        balance=10,
        tier="Insider",
        breakdown=[{"reason": "tier_multiplier", "detail": "Insider", "points": "1.25"}],
    )
    assert "(Habitual)" in note(
        "points_earned",
        receipt_id="R-1",
        points_awarded=10,
        balance=10,
        tier="Insider",
        breakdown=[{"reason": "tier_multiplier", "detail": "Insider", "points": "1.25"}],
    )
    old_row = note("nudge_reward_affordable", reward="Free coffee", cost=150, balance=200)
    assert "<b>Free coffee</b>" in old_row  # queued before titles were keys: as it was
