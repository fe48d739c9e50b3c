"""The dashboard's use cases on both databases: one-time login links, member search, and
the newest audit entries."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain.errors import InvalidRequest
from domain.services.audit import latest_actions
from domain.services.dashboard import (
    LOGIN_LIFETIME,
    issue_login,
    login_key,
    search_members,
    take_login,
)
from domain.services.members import forget, update_settings
from domain.services.points import adjust_points
from tests.conftest import NOW
from tests.integration.helpers import new_member

KEY = login_key(b"k" * 32)


async def test_a_login_link_signs_in_once(uow) -> None:
    token = await issue_login(uow, 42, NOW, KEY)
    assert await take_login(uow, token, NOW + timedelta(seconds=30), KEY) == 42
    with pytest.raises(InvalidRequest):
        await take_login(uow, token, NOW + timedelta(seconds=31), KEY)
    assert [(e.actor, e.action) for e in await latest_actions(uow, 10)] == [
        ("telegram:42", "dashboard_login")
    ]


async def test_a_login_link_expires_after_five_minutes(uow) -> None:
    token = await issue_login(uow, 42, NOW, KEY)
    with pytest.raises(InvalidRequest):
        await take_login(uow, token, NOW + LOGIN_LIFETIME, KEY)
    with pytest.raises(InvalidRequest):
        await take_login(uow, "not-a-token", NOW, KEY)
    assert await latest_actions(uow, 10) == []


async def test_a_forged_or_unsigned_link_is_refused_and_the_real_one_still_works(uow) -> None:
    signed = await issue_login(uow, 42, NOW, KEY)
    token, _, signature = signed.partition(".")
    forged = f"{token}.{'0' * len(signature)}"
    for attempt in (token, forged, signed.replace(".", "x"), f".{signature}"):
        with pytest.raises(InvalidRequest):
            await take_login(uow, attempt, NOW, KEY)
    with pytest.raises(InvalidRequest):  # signed with another bot's key
        await take_login(uow, signed, NOW, login_key(b"x" * 32))
    assert await take_login(uow, signed, NOW, KEY) == 42


async def test_two_simultaneous_uses_of_a_link_sign_in_once(database) -> None:
    from storage.uow import SqlUnitOfWork

    token = await issue_login(SqlUnitOfWork(database), 7, NOW, KEY)
    outcomes = await asyncio.gather(
        *(take_login(SqlUnitOfWork(database), token, NOW, KEY) for _ in range(5)),
        return_exceptions=True,
    )
    assert outcomes.count(7) == 1
    assert all(isinstance(o, InvalidRequest) for o in outcomes if o != 7)


async def test_members_are_found_by_code_phone_or_part_of_the_name(uow, program) -> None:
    ana = await new_member(uow, program, 1)
    await update_settings(uow, ana.id, first_name="Ana María", phone="+34600111222")
    bob = await new_member(uow, program, 2)
    await update_settings(uow, bob.id, first_name="Bob_50%")
    gone = await new_member(uow, program, 3)
    await update_settings(uow, gone.id, first_name="Anastasia")
    await forget(uow, gone.id, NOW)

    assert [m.id for m in await search_members(uow, ana.code or "")] == [ana.id]
    assert [m.id for m in await search_members(uow, (ana.code or "").lower())] == [ana.id]
    assert [m.id for m in await search_members(uow, "+34 600 111 222")] == [ana.id]
    assert [m.id for m in await search_members(uow, "aNa")] == [ana.id]  # not the forgotten
    assert [m.id for m in await search_members(uow, "_50%")] == [bob.id]
    assert await search_members(uow, "a%a") == []  # a wildcard is a character, not "anything"
    assert await search_members(uow, "   ") == []
    assert await search_members(uow, "nobody") == []


async def test_the_newest_audit_entries_come_first(uow, program) -> None:
    member = await new_member(uow, program, 1)
    for points in (10, 20, 30):
        await adjust_points(
            uow, program, member_id=member.id, points=points, reason="r", actor="a", now=NOW
        )
    assert [e.details["points"] for e in await latest_actions(uow, 2)] == [30, 20]
