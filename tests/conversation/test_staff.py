"""Staff in chat: roles, one-time invites, /sale, /voucher, /member, /adjust."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.conversation.actions import Answer, Menu
from bot.conversation.desk import STAFF
from bot.conversation.menus import COMMAND_ROLES, customer_commands, staff_menu, staff_menus
from bot.conversation.texts import key_values
from domain.services.audit import audit_log
from storage.checks import check_invariants
from storage.tables import OutboxRow
from tests.conversation.conftest import (
    ADMIN,
    ANN,
    CASHIER,
    OTHER,
    UNKNOWN,
    data_of,
    hire,
    joined,
    press,
    said,
    text_of,
)

MENU_ES = tuple(key_values("commands", "es").items())


async def templates_for(database, member_code: str) -> list[str]:
    from storage.tables import MemberRow

    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(OutboxRow.c.template)
            .join(MemberRow, MemberRow.c.id == OutboxRow.c.member_id)
            .where(MemberRow.c.code == member_code)
            .order_by(OutboxRow.c.id)
        )
        return list(rows.scalars())


async def test_customers_learn_nothing_of_staff_commands(desk, ctx):
    await joined(desk, ctx, ANN)
    unknown = await text_of(desk, said(ANN, "/nonsense"))
    assert UNKNOWN in unknown
    for command in (
        "/sale",
        "/staff add",
        "/staff list",
        "/adjust X +1 y",
        "/voucher X",
        "/member X",
    ):
        assert await text_of(desk, said(ANN, command)) == unknown
    not_joined = await text_of(desk, said(OTHER, "/nonsense"))
    assert await text_of(desk, said(OTHER, "/sale")) == not_joined


async def test_invite_works_once_and_removal_takes_the_commands_away(desk, ctx):
    await hire(desk)
    invite = await text_of(desk, said(ADMIN, "/staff add"))
    payload = re.search(r"start=(\S+)", invite)[1]
    *_, menu = await desk.handle(said(OTHER, f"/start {payload}"))
    assert menu == Menu(
        OTHER.id,
        (
            *MENU_ES,
            ("sale", "Registrar una venta para un cliente"),
            ("voucher", "Comprobar un cupón y marcarlo como usado"),
            ("member", "Consultar un socio"),
        ),
    )
    refused = await text_of(desk, said(ANN, f"/start {payload}"))
    assert "not valid" in refused
    listing = await text_of(desk, said(ADMIN, "/staff list"))
    assert "Carl" in listing
    assert "9002" in listing
    assert "Olga" in listing
    assert UNKNOWN not in await text_of(desk, said(CASHIER, "/sale"))
    [pick] = await desk.handle(said(ADMIN, "/staff remove"))
    answer, edit, cleared = await desk.handle(press(ADMIN, data_of(pick, "✖ Carl")))
    assert isinstance(answer, Answer)
    assert "no longer on the staff" in edit.text
    assert cleared == Menu(CASHIER.id, ())  # back to the customers' menu
    await joined(desk, ctx, CASHIER)
    assert UNKNOWN in await text_of(desk, said(CASHIER, "/sale"))
    assert "not on the staff" in await text_of(desk, said(ADMIN, "/staff remove 9002"))
    actions = [e.action for e in await audit_log(ctx.reader())]
    assert actions == [
        "staff_invited",
        "staff_added",
        "staff_invited",
        "staff_added",
        "staff_removed",
    ]


async def test_cashiers_cannot_use_admin_commands(desk, ctx):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    assert await text_of(desk, said(CASHIER, f"/adjust {code} +100 gift")) == await text_of(
        desk, said(CASHIER, "/nonsense")
    )
    assert "/staff add" not in await text_of(desk, said(CASHIER, "/staff"))


async def test_sale_by_code_awards_once_and_tells_both_sides(desk, ctx, database):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    assert "member code" in await text_of(desk, said(CASHIER, "/sale"))
    assert "neither" in await text_of(desk, said(CASHIER, "hello"))
    assert "No member" in await text_of(desk, said(CASHIER, "ZZZZZZZZ"))
    assert "Ann" in await text_of(desk, said(CASHIER, code.lower()))
    assert "with at most 2 decimals" in await text_of(desk, said(CASHIER, "1,250"))
    [categories] = await desk.handle(said(CASHIER, "40,00"))
    _, confirm = await desk.handle(press(CASHIER, data_of(categories, "Shoes")))
    assert "Points: <b>85</b>" in confirm.text  # shoes count double, plus the visit bonus
    _, done = await desk.handle(press(CASHIER, data_of(confirm, "✅ Record sale")))
    assert "earned <b>85</b> points" in done.text
    _, again = await desk.handle(press(CASHIER, data_of(confirm, "✅ Record sale")))
    assert "already recorded" in again.text
    assert await templates_for(database, code) == ["points_earned"]
    async with ctx.reader() as uow:
        member = await uow.members.by_code(code)
        assert await uow.ledger.balance(member.id) == 50 + 85
    assert await check_invariants(database) == []


async def test_customer_cannot_press_a_cashiers_button(desk, ctx):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    await desk.handle(said(CASHIER, f"/sale {code}"))
    [categories] = await desk.handle(said(CASHIER, "10"))
    [refusal] = await desk.handle(press(ANN, data_of(categories, "Other")))
    assert isinstance(refusal, Answer)
    assert "not valid" in refusal.text


async def test_sale_for_an_unknown_phone_is_held(desk, ctx):
    await hire(desk)
    assert "kept for them" in await text_of(desk, said(CASHIER, "/sale +34 600 000 111"))
    [categories] = await desk.handle(said(CASHIER, "10"))
    _, confirm = await desk.handle(press(CASHIER, data_of(categories, "Other")))
    assert "not a member yet" in confirm.text
    _, done = await desk.handle(press(CASHIER, data_of(confirm, "✅")))
    assert "kept for +34600000111" in done.text


async def test_voucher_checked_and_used_once(desk, ctx):
    await hire(desk)
    await joined(desk, ctx, ANN, points=500)
    [catalogue] = await desk.handle(said(ANN, "/rewards"))
    _, detail = await desk.handle(press(ANN, data_of(catalogue, "")))
    _, issued = await desk.handle(press(ANN, data_of(detail, "✅ Redeem")))
    voucher = re.search(r"<code>([A-Z0-9]{4}-?[A-Z0-9]{4}-?[A-Z0-9]{4})</code>", issued.text)[1]
    assert "No voucher" in await text_of(desk, said(CASHIER, "/voucher NOPE"))
    [check] = await desk.handle(said(CASHIER, voucher))
    assert "Valid until" in check.text
    _, used = await desk.handle(press(CASHIER, data_of(check, "✅ Mark as used")))
    assert "Used on" in used.text
    [refused] = await desk.handle(press(CASHIER, data_of(check, "✅ Mark as used")))
    assert refused.alert
    assert "already used" in refused.text
    [entry] = [e for e in await audit_log(ctx.reader()) if e.action == "voucher_used"]
    assert entry.actor == "telegram:9002"


async def test_member_lookup(desk, ctx):
    await hire(desk)
    code = await joined(desk, ctx, ANN, points=100)
    summary = await text_of(desk, said(CASHIER, f"/member {code}"))
    assert "Ann" in summary
    assert "<b>150</b>" in summary
    assert "not shared" in summary
    assert "No member" in await text_of(desk, said(CASHIER, "/member +1 555 000 0000"))


async def test_adjust_by_admin(desk, ctx, database):
    code = await joined(desk, ctx, ANN)
    added = await text_of(desk, said(ADMIN, f"/adjust {code} +100 sorry"))
    assert "New balance: <b>150</b>" in added
    assert "only 150 points" in await text_of(desk, said(ADMIN, f"/adjust {code} -999 oops"))
    assert "reason is required" in await text_of(desk, said(ADMIN, f"/adjust {code} +5"))
    assert "No member" in await text_of(desk, said(ADMIN, "/adjust ZZZZZZZZ +5 x"))
    assert await templates_for(database, code) == ["points_adjusted"]
    [entry] = [e for e in await audit_log(ctx.reader()) if e.action == "adjustment"]
    assert entry.actor == "telegram:9001"
    assert entry.details["reason"] == "sorry"


async def test_menus_at_start_up_follow_each_role_and_language(desk, ctx):
    await hire(desk)
    await hire(desk, OTHER)
    await joined(desk, ctx, OTHER)  # Olga joined in Spanish; Alma and Carl have not joined
    menus = {menu.chat_id: dict(menu.commands) for menu in await staff_menus(desk.ctx)}
    assert set(menus) == {ADMIN.id, CASHIER.id, OTHER.id}
    assert {"adjust", "staff", "broadcast", "broadcasts", "sale"} <= set(menus[ADMIN.id])
    assert "sale" in menus[CASHIER.id]
    assert "broadcast" not in menus[CASHIER.id]
    assert menus[OTHER.id]["member"] == "Consultar un socio"
    assert set(COMMAND_ROLES) == set(STAFF.commands) == set(key_values("staff_commands", "es"))


async def test_a_staff_members_menu_follows_their_language(desk, ctx):
    await hire(desk)
    await joined(desk, ctx, CASHIER)
    [settings] = await desk.handle(said(CASHIER, "/settings"))
    *_, menu = await desk.handle(press(CASHIER, data_of(settings, "Español")))
    assert menu == staff_menu(CASHIER.id, "staff", "es")
    await joined(desk, ctx, ANN)
    [settings] = await desk.handle(said(ANN, "/settings"))
    actions = await desk.handle(press(ANN, data_of(settings, "Español")))
    # a customer's own chat menu: the customer commands in her language, no staff ones
    assert [a for a in actions if isinstance(a, Menu)] == [Menu(ANN.id, customer_commands("es"))]
