"""Numbers, amounts, codes and ids typed in chat: one parser, a friendly reply for anything else.

The parser is pure (bot/conversation/typed.py); the chat tests drive the core over both
databases and check that what was refused never reached a service or the database.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.conversation.actions import Send
from bot.conversation.events import Incoming, Person
from bot.conversation.typed import (
    TypedNumberError,
    money,
    telegram_id,
    unreadable,
    whole_number,
)
from domain.validation import MAX_BIGINT
from messages.render import render
from storage.checks import check_invariants
from tests.conversation.conftest import (
    ADMIN,
    CASHIER,
    data_of,
    hire,
    joined,
    member_with,
    said,
    text_of,
)

ANN = Person(1001, first_name="Ann", language_code="en")
HUGE = "9" * 5000
WHOLE = "Please type a whole number"
TOO_LARGE = "That is too large"
UNREADABLE = "control characters"


@pytest.mark.parametrize(
    ("typed", "number"),
    [("25", 25), ("  25\n", 25), ("007", 7), ("0" * 5000 + "7", 7), ("300", 300)],
)
def test_plain_ascii_digits_are_read(typed, number):
    assert whole_number(typed, minimum=1, maximum=300) == number


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("²", "whole"),
        ("①", "whole"),
        ("٣", "whole"),
        ("３", "whole"),
        ("۱۲", "whole"),
        ("1.5", "whole"),
        ("1,5", "whole"),
        ("1 000", "whole"),
        ("1_000", "whole"),
        ("", "whole"),
        ("  ", "whole"),
        ("+5", "whole"),
        ("-5", "whole"),
        ("5\x00", "whole"),
        ("1e3", "whole"),
        ("0x10", "whole"),
        ("0", "too_small"),
        ("301", "too_large"),
        (HUGE, "too_large"),
        ("9" * 20, "too_large"),
    ],
)
def test_anything_else_is_refused_with_its_reason(typed, reason):
    with pytest.raises(TypedNumberError) as refused:
        whole_number(typed, minimum=1, maximum=300)
    assert refused.value.reason == reason


def test_a_sign_only_where_the_step_takes_one():
    assert whole_number("+100", minimum=-(10**7), maximum=10**7, signed=True) == 100
    assert whole_number("-50", minimum=-(10**7), maximum=10**7, signed=True) == -50
    assert whole_number("50", minimum=-(10**7), maximum=10**7, signed=True) == 50
    for typed, reason in (
        ("+-5", "whole"),
        ("--5", "whole"),
        ("−5", "whole"),
        ("+" + HUGE, "too_large"),
        ("-" + HUGE, "too_small"),
    ):
        with pytest.raises(TypedNumberError) as refused:
            whole_number(typed, minimum=-(10**7), maximum=10**7, signed=True)
        assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("12", Decimal(12)),
        ("12.5", Decimal("12.5")),
        ("12,50", Decimal("12.50")),
        (" 0.01 ", Decimal("0.01")),
        ("1000000", Decimal(1_000_000)),
    ],
)
def test_money_in_the_currencys_minor_digits(typed, amount):
    assert money(typed, currency="EUR", maximum=Decimal(1_000_000)) == amount


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("NaN", "amount"),
        ("Infinity", "amount"),
        ("-inf", "amount"),
        ("1e3", "amount"),
        ("1E+3", "amount"),
        ("12.501", "amount"),
        ("1,250", "amount"),
        ("1 250", "amount"),
        ("-5", "amount"),
        ("+5", "amount"),
        ("12.", "amount"),
        (".5", "amount"),
        ("١٢", "amount"),
        ("0", "too_small"),
        ("0.00", "too_small"),
        ("1000000.01", "too_large"),
        (HUGE, "too_large"),
        (HUGE + ".5", "too_large"),
    ],
)
def test_money_refusals(typed, reason):
    with pytest.raises(TypedNumberError) as refused:
        money(typed, currency="EUR", maximum=Decimal(1_000_000))
    assert refused.value.reason == reason


def test_money_without_minor_units():
    assert money("1500", currency="JPY", maximum=Decimal(10**6)) == Decimal(1500)
    with pytest.raises(TypedNumberError) as refused:
        money("1500.5", currency="JPY", maximum=Decimal(10**6))
    assert refused.value.decimals == 0


def test_telegram_ids_fit_a_database_column():
    assert telegram_id(str(MAX_BIGINT)) == MAX_BIGINT
    for typed in (str(MAX_BIGINT + 1), HUGE, "0"):
        with pytest.raises(TypedNumberError):
            telegram_id(typed)


def test_unreadable_text():
    assert not unreadable("Big sale!\n\tLine two\r\n 🎉 ½ ²")
    for text in ("a\x00b", "\x1b[31m", "\x7f", "\x85", "\ud800"):
        assert unreadable(text)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_refusal_reads_in_both_locales(locale):
    for typed in ("x", "0", HUGE):
        with pytest.raises(TypedNumberError) as refused:
            whole_number(typed, minimum=1, maximum=300)
        assert render("typed_refusal", locale, refusal=refused.value, currency=None)
    for typed in ("x", "0", HUGE):
        with pytest.raises(TypedNumberError) as refused:
            money(typed, currency="EUR", maximum=Decimal(10))
        assert render("typed_refusal", locale, refusal=refused.value, currency="EUR")


async def donation_step(conversation, ctx) -> None:
    await member_with(conversation, ctx, ANN, 250)  # 300 points
    [causes] = await conversation.handle(said(ANN, "/donate"))
    await conversation.handle(press_of(causes, "Plant trees"))


def press_of(action, label: str):
    from tests.conversation.test_rewards_and_history import press

    return press(ANN, data_of(action, label))


@pytest.mark.parametrize("typed", ["²", "①", "٣", "1.5", "1,5", "1 000", "15\x00"])
async def test_donation_amount_must_be_plain_digits(conversation, ctx, typed):
    await donation_step(conversation, ctx)
    [reply] = await conversation.handle(said(ANN, typed))
    assert isinstance(reply, Send)
    assert "Give <b>" not in reply.text  # not offered as a donation (1.5 was offered as 15)
    assert WHOLE in reply.text or UNREADABLE in reply.text
    [confirm] = await conversation.handle(said(ANN, "15"))  # the step is still open
    assert "Give <b>15</b> points" in confirm.text


async def test_a_5000_digit_donation_is_too_large(conversation, ctx, database):
    await donation_step(conversation, ctx)
    [reply] = await conversation.handle(said(ANN, HUGE))
    assert reply.text == "That is too large: at most 300."
    assert await check_invariants(database) == []


async def test_adjust_reads_its_points_with_the_parser(desk, ctx, database):
    code = await joined(desk, ctx, ANN)
    assert TOO_LARGE in await text_of(desk, said(ADMIN, f"/adjust {code} +{HUGE} sorry"))
    assert "That is too small" in await text_of(desk, said(ADMIN, f"/adjust {code} -{HUGE} x"))
    for points in ("+-5", "²", "+1.5", "1,000"):
        reply = await text_of(desk, said(ADMIN, f"/adjust {code} {points} sorry"))
        assert "whole number with + or -" in reply
    assert "New balance: <b>150</b>" in await text_of(desk, said(ADMIN, f"/adjust {code} 100 x"))
    assert await check_invariants(database) == []


async def test_sale_amounts(desk, ctx):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    await desk.handle(said(CASHIER, f"/sale {code}"))
    for typed in ("NaN", "Infinity", "1e3", "12.501", "1 000"):
        assert "Please type the amount in digits, like <code>12.50</code>" in await text_of(
            desk, said(CASHIER, typed)
        )
    assert "at most $1,000,000.00" in await text_of(desk, said(CASHIER, HUGE))
    assert "at least $0.01" in await text_of(desk, said(CASHIER, "0"))
    [categories] = await desk.handle(said(CASHIER, "12,5"))
    assert "$12.50" in categories.text


@pytest.mark.parametrize(
    "command",
    [
        "/voucher AB\x00CD",
        "/member K7M2\x00Q9XR",
        "/sale +34600\x00000111",
        "/start r-ABCD\x00EFGH",
    ],
)
async def test_control_characters_never_reach_the_database(desk, ctx, command):
    await hire(desk)
    await joined(desk, ctx, ANN)
    assert UNREADABLE in await text_of(desk, said(CASHIER, command))


async def test_control_characters_in_a_typed_step(desk, ctx):
    await hire(desk)
    await desk.handle(said(CASHIER, "/voucher"))
    assert UNREADABLE in await text_of(desk, said(CASHIER, "ABCD\x00"))
    assert "No voucher" in await text_of(desk, said(CASHIER, "ABCD"))  # still at that step


async def test_a_telegram_id_beyond_a_database_column(desk, ctx):
    for typed in (str(2**63), HUGE, "²"):
        reply = await text_of(desk, said(ADMIN, f"/staff remove {typed}"))
        assert "too large" in reply or WHOLE in reply


async def test_broadcast_numbers_and_text(desk, ctx, database):
    await desk.handle(said(ADMIN, "/broadcast"))
    assert UNREADABLE in await text_of(desk, said(ADMIN, "Big\x00sale"))
    await desk.handle(said(ADMIN, "Big sale"))
    assert "cannot be sent" in await text_of(desk, said(ADMIN, "Claim | ²"))
    assert "cannot be sent" in await text_of(desk, said(ADMIN, f"Claim | {HUGE}"))
    assert "everyone" in await text_of(desk, said(ADMIN, "Claim | 50"))
    assert TOO_LARGE in await text_of(desk, said(ADMIN, f"balance {HUGE}"))
    assert TOO_LARGE in await text_of(desk, said(ADMIN, "inactive 99999999"))
    assert WHOLE in await text_of(desk, said(ADMIN, "inactive ²"))
    assert UNREADABLE in await text_of(desk, said(ADMIN, "category shoes\x00"))
    assert "<b>0</b> members" in await text_of(desk, said(ADMIN, "balance 1000000000"))


async def test_a_long_unknown_time_zone_is_shown_shortened(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    [settings] = await conversation.handle(said(ANN, "/settings"))
    await conversation.handle(press_of(settings, "🌍"))
    [refused] = await conversation.handle(said(ANN, HUGE))
    assert f"“{'9' * 63}…”" in refused.text
    assert len(refused.text) < 200


async def test_a_refused_broadcast_part_is_not_echoed_in_full(desk):
    await desk.handle(said(ADMIN, "/broadcast"))
    html = "<a href='" + "x" * 4000 + "'>"
    [refused] = await desk.handle(Incoming("message", ADMIN, chat_id=ADMIN.id, text="x", html=html))
    assert "cannot be sent" in refused.text
    assert len(refused.text) < 500
    await desk.handle(said(ADMIN, "Big sale"))
    [refused] = await desk.handle(said(ADMIN, "Go | reward:" + "x" * 4000))
    assert "no reward" in refused.text
    assert len(refused.text) < 500
