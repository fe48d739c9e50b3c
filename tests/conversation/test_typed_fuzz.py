"""Any text typed at any step gets a friendly reply and moves no points.

Every typed-text step a feature declares (customers: core.MEMBERS, staff: desk.STAFF) and
every command that reads what follows it is fed arbitrary text: every Unicode category
(surrogates and control characters too), huge digit strings, other scripts' digits,
whitespace, signs, decimals, NaN and exponents. Each reply must be a message that is not
the apology and that Telegram would take (at most 4096 characters); the ledger must not
change (entries and the sum of balances), except that `/adjust` of a real member may add
or remove points when it says so, and then `storage.checks` must still find no drift.

SQLite runs more examples than PostgreSQL; HYPOTHESIS_TYPED_EXAMPLES raises both.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.conversation.actions import Action, Edit, Send
from bot.conversation.core import MEMBERS, Conversation
from bot.conversation.desk import STAFF
from bot.conversation.events import Incoming, Person
from bot.conversation.handlers import broadcast, sale, till
from bot.conversation.handlers import settings as settings_handlers
from bot.conversation.handlers.donate import STEP as DONATE_STEP
from bot.conversation.handlers.survey import COMMENT_STEP as SURVEY_COMMENT_STEP
from bot.html import HtmlError, parse_html
from domain.services.conversations import remember_step
from messages.render import render
from storage.checks import check_invariants
from storage.tables import AccountRow, EntryRow
from tests.conftest import NOW
from tests.conversation.conftest import ADMIN, joined

CUSTOMER = Person(1001, first_name="Ann", language_code="en")
APOLOGY = render("error", "en")
MAX_MESSAGE = 4096
EXAMPLES = int(os.environ.get("HYPOTHESIS_TYPED_EXAMPLES", "0"))
DRAFT = {"html": "Big sale", "photo": ""}

# Each typed-text step: who is at it and what earlier steps left in its data.
STEP_STATES: dict[str, tuple[Person, Callable[[str], dict[str, str]]]] = {
    DONATE_STEP: (CUSTOMER, lambda code: {"cause": "trees"}),
    settings_handlers.TIMEZONE_STEP: (CUSTOMER, lambda code: {}),
    SURVEY_COMMENT_STEP: (CUSTOMER, lambda code: {"send": "1"}),
    sale.MEMBER_STEP: (ADMIN, lambda code: {}),
    sale.AMOUNT_STEP: (ADMIN, lambda code: {"ref": f"c{code}"}),
    till.VOUCHER_STEP: (ADMIN, lambda code: {}),
    till.MEMBER_STEP: (ADMIN, lambda code: {}),
    broadcast.MESSAGE_STEP: (ADMIN, lambda code: {}),
    broadcast.BUTTON_STEP: (ADMIN, lambda code: DRAFT),
    broadcast.SEGMENT_STEP: (ADMIN, lambda code: {**DRAFT, "segment": "{}"}),
}
# Commands that read what follows them: (who, the text before the typed part, after it).
COMMANDS: dict[str, tuple[Person, str, str]] = {
    "adjust": (ADMIN, "/adjust ", ""),
    "adjust points": (ADMIN, "/adjust {code} ", " typed reason"),
    "adjust reason": (ADMIN, "/adjust {code} +1 ", ""),
    "member": (ADMIN, "/member ", ""),
    "voucher": (ADMIN, "/voucher ", ""),
    "sale": (ADMIN, "/sale ", ""),
    "staff": (ADMIN, "/staff ", ""),
    "staff remove": (ADMIN, "/staff remove ", ""),
    "broadcast": (ADMIN, "/broadcast ", ""),
    "start": (CUSTOMER, "/start ", ""),
    "donate": (CUSTOMER, "/donate ", ""),
    "no step": (CUSTOMER, "", ""),
}
MAY_MOVE_POINTS = {"adjust points", "adjust reason"}

SIGNS = st.sampled_from(["", "+", "-", "−", "+-", " ", "\x00"])
ASCII_DIGITS = st.text("0123456789", min_size=1, max_size=25)
UNICODE_DIGITS = st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=8)
SPACES = st.text(" \t\n\r\u00a0\u2002\u2009\u202f\u3000\x0b\x0c\x1c", max_size=4)
TYPED = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=60),  # every category
    st.text(max_size=60),
    st.integers(1_000, 6_000).map(lambda n: "9" * n),  # beyond int()'s 4,300 digits
    st.integers(18, 30).map(lambda n: "1" + "0" * n),  # beyond a database column
    st.builds(lambda a, s, d, b: a + s + d + b, SPACES, SIGNS, ASCII_DIGITS, SPACES),
    st.builds(lambda s, d: s + d, SIGNS, UNICODE_DIGITS),
    st.builds(
        lambda d, sep, e: d + sep + e,
        ASCII_DIGITS,
        st.sampled_from([".", ",", " ", "_", "'", "\u00a0", "e", "E+", "\x00"]),
        ASCII_DIGITS,
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(
        [
            "²",
            "①",
            "٣",
            "１２",
            "1.5",
            "1,5",
            "1 000",
            "NaN",
            "-Infinity",
            "1e309",
            "\x00",
            "12\x00",
            "",
            " ",
            "everyone",
            "balance 5",
            "inactive ²",
            "Go | 50",
            "Go | ²",
            "Go | reward:coffee",
            "Go | https://x.y",
            "list",
            "add",
            "remove 1",
            f"remove {2**63}",
            "Europe/Madrid",
            "\ud800",
            "9" * 5000,
            "0" * 5000 + "1",
            "+" + "9" * 5000,
            "x" * 4096,
            "Go | reward:" + "x" * 4000,
            "<b>" + "x" * 4000,
        ]
    ),
)


def replies_are_friendly(actions: list[Action]) -> None:
    """A message came back, not the apology, and Telegram would take every text."""
    assert any(isinstance(action, Send) for action in actions), actions
    for action in actions:
        if isinstance(action, Send | Edit):
            assert action.text != APOLOGY
            try:
                shown = parse_html(action.text).text
            except HtmlError as error:
                raise AssertionError(f"not Telegram HTML: {action.text!r}") from error
            assert len(shown) <= MAX_MESSAGE


async def ledger(database: Any) -> tuple[int, int]:
    """How many ledger entries there are, and the sum of all balances."""
    async with database.reader.connect() as conn:
        entries = (await conn.execute(select(func.count()).select_from(EntryRow))).scalar()
        total = (
            await conn.execute(select(func.coalesce(func.sum(AccountRow.c.balance), 0)))
        ).scalar()
    return int(entries or 0), int(total or 0)


@pytest.fixture
async def world(ctx) -> tuple[Conversation, str]:
    """An admin, and a customer with 300 points; the customer's member code."""
    conversation = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))
    return conversation, await joined(conversation, ctx, CUSTOMER, points=250)


def test_every_typed_step_is_fuzzed():
    assert set(STEP_STATES) == set(MEMBERS.steps) | set(STAFF.steps)


async def typed_at(
    conversation: Conversation, ctx: Any, database: Any, code: str, case: str, typed: str
) -> None:
    """Put the person where `case` says, send `typed` there, and check reply and ledger."""
    if case in STEP_STATES:
        person, data = STEP_STATES[case]
        await remember_step(ctx.writer(), person.id, case, data(code), NOW)
        text = typed if not typed.startswith("/") else " " + typed  # not a command
    else:
        person, before, after = COMMANDS[case]
        text = before.format(code=code) + typed + after
    was = await ledger(database)
    actions = await conversation.handle(
        Incoming("message", person, chat_id=person.id, text=text, update_id=1)
    )
    replies_are_friendly(actions)
    if case not in MAY_MOVE_POINTS:
        assert await ledger(database) == was
        return
    if not any(isinstance(a, Send) and "New balance" in a.text for a in actions):
        assert await ledger(database) == was  # points move only when the reply says so
    assert await check_invariants(database) == []


CASES = sorted(STEP_STATES) + sorted(COMMANDS)
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", CASES)
@settings(FUZZ, max_examples=EXAMPLES or 60)
@given(typed=TYPED)
async def test_any_text_at_any_step_sqlite(world, ctx, database, case, typed):
    conversation, code = world
    await typed_at(conversation, ctx, database, code, case, typed)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
@pytest.mark.parametrize("case", CASES)
@settings(FUZZ, max_examples=EXAMPLES or 15)
@given(typed=TYPED)
async def test_any_text_at_any_step_postgresql(world, ctx, database, case, typed):
    conversation, code = world
    await typed_at(conversation, ctx, database, code, case, typed)
