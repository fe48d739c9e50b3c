"""/offers through the conversation core: the promotions running now and starting within a
week for the member's tier, on the member's own clock and in their language.

The clock is Monday 2 March 2026, 15:30 UTC: 10:30 in New York (the program's time zone,
EST until Sunday 8 March 02:00, then EDT) and 16:30 in Madrid (CET, UTC+1)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time
from decimal import Decimal

import pytest

from bot.conversation.core import Conversation
from domain.program import Promotion
from domain.services.members import update_settings
from tests.conversation.conftest import ANN, OTHER, joined, said, text_of

MORNING = Promotion(  # weekdays 09:00-12:00: running now, until 12:00 today
    id="morning",
    title="Morning coffee",
    titles=(("en", "Morning coffee"), ("es", "Café de la mañana")),
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    weekdays=(0, 1, 2, 3, 4),
    hours=(time(9), time(12)),
    categories=("coffee",),
    multiplier=Decimal(2),
)
NIGHT = Promotion(  # Saturday 22:00 EST to Sunday 03:00 EDT: the night the clocks change
    id="night",
    title="Night owls",
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    weekdays=(5,),
    hours=(time(22), time(3)),
    min_spend=Decimal(10),
    bonus=40,
)
PRIME = Promotion(  # only for Prime: never shown to a Member
    id="prime",
    title="Prime days",
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    tiers=("Prime",),
    multiplier=Decimal(3),
)
SPRING = Promotion(  # starts in April: not soon
    id="spring",
    title="Spring",
    starts=datetime(2026, 4, 10),
    ends=datetime(2026, 4, 20),
    bonus=5,
)


@pytest.fixture
def bot(ctx) -> Conversation:
    program = dataclasses.replace(ctx.program, promotions=(SPRING, NIGHT, PRIME, MORNING))
    return Conversation(dataclasses.replace(ctx, program=program))


async def test_offers_on_now_and_soon_for_the_members_tier(bot, ctx):
    await joined(bot, ctx, ANN)
    assert await text_of(bot, said(ANN, "/offers")) == (
        "🎉 <b>Offers</b>\n"
        "\n<b>On now</b>\n"
        "• <b>Morning coffee</b>: ×2 points on coffee. Until Mon, Mar 2 12:00\u202fPM.\n"
        "\n<b>Coming soon</b>\n"
        "• <b>Night owls</b>: +40 points a purchase (spending $10.00 or more). "
        "Sat, Mar 7 10:00\u202fPM to Sun, Mar 8 3:00\u202fAM."
    )


async def test_offers_in_spanish_on_the_members_own_clock(bot, ctx):
    await joined(bot, ctx, OTHER)
    async with ctx.reader() as uow:
        member = await uow.members.by_telegram_id(OTHER.id)
    await update_settings(ctx.writer(), member.id, timezone="Europe/Madrid")
    # 12:00 EST is 18:00 in Madrid; the night runs 22:00 EST (04:00 in Madrid) to 03:00
    # EDT (08:00 in Madrid): four hours, as the clocks jumped an hour in New York
    assert await text_of(bot, said(OTHER, "/offers")) == (
        "🎉 <b>Ofertas</b>\n"
        "\n<b>Ahora</b>\n"
        "• <b>Café de la mañana</b>: ×2 puntos en coffee. Hasta el lun, 2 mar a las 18:00.\n"
        "\n<b>Muy pronto</b>\n"
        "• <b>Night owls</b>: +40 puntos por compra (gastando 10,00\u00a0US$ o más). "
        "Del dom, 8 mar a las 4:00 hasta las 8:00."
    )


async def test_offers_when_nothing_is_on(ctx):
    bot = Conversation(ctx)  # the bundled program has no promotions
    await joined(bot, ctx, ANN)
    assert await text_of(bot, said(ANN, "/offers")) == (
        "🎉 <b>Offers</b>\n"
        "Nothing on right now, and nothing in the next few days. We will tell you when there is!"
    )
