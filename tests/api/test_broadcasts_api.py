"""POST and GET /api/v1/broadcasts: validation, scopes, segments and progress."""

from __future__ import annotations

from domain.services.members import update_settings
from storage.uow import SqlUnitOfWork
from tests.api.conftest import bearer
from tests.integration.helpers import new_member


async def members(database, program, count: int) -> None:
    for telegram_id in range(1, count + 1):
        await new_member(SqlUnitOfWork(database), program, telegram_id=telegram_id)


async def test_queue_then_read_progress(client, tokens, database, program):
    await members(database, program, 4)
    async with SqlUnitOfWork(database, read_only=True) as uow:
        first = await uow.members.by_telegram_id(1)
    await update_settings(SqlUnitOfWork(database), first.id, marketing_opt_in=False)
    body = {
        "text": "<b>Double points</b> this weekend",
        "button": {"text": "Claim 50", "bonus_points": 50},
    }
    answer = await client.post("/api/v1/broadcasts", json=body, headers=bearer(tokens["admin"]))
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["total"] == 3  # the one who turned offers off is left out
    assert created["pending"] == 3
    assert created["state"] == "running"
    assert created["created_by"] == "api:t-admin"
    read = await client.get(f"/api/v1/broadcasts/{created['id']}", headers=bearer(tokens["admin"]))
    assert read.json() == created


async def test_segments_are_checked_against_the_program(client, tokens, database, program):
    await members(database, program, 2)
    headers = bearer(tokens["admin"])
    spanish = {"text": "Hola", "segment": {"locale": "es"}}
    assert (await client.post("/api/v1/broadcasts", json=spanish, headers=headers)).json()[
        "total"
    ] == 0
    for segment, field in (
        ({"tier": "Diamond"}, "segment.tier"),
        ({"locale": "fr"}, "segment.locale"),
    ):
        refused = await client.post(
            "/api/v1/broadcasts", json={"text": "x", "segment": segment}, headers=headers
        )
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith(field)


async def test_bad_bodies_and_scopes(client, tokens):
    headers = bearer(tokens["admin"])
    for body, reason in (
        ({"text": "<blink>x</blink>"}, "not valid Telegram HTML"),
        ({"text": "x", "button": {"text": "Go", "url": "ftp://x"}}, "button.url"),
        ({"text": "x", "button": {"text": "Go", "reward_id": "nope"}}, "button.reward_id"),
        ({"text": "x", "button": {"text": "Go"}}, "exactly one"),
        ({"text": "x", "segment": {"min_balance": -1}}, "min_balance"),
        ({"text": "x", "colour": "red"}, "colour"),
        ({"text": ""}, "text: 1 to 4096"),
        ({"text": "x", "photo": "not a file id"}, "photo: a Telegram file_id or an http(s) URL"),
        ({"text": "x", "photo": "https://"}, "photo: the URL has no host"),
        ({"text": "x" * 1025, "photo": "https://shop.example/a.png"}, "at most 1024"),
    ):
        refused = await client.post("/api/v1/broadcasts", json=body, headers=headers)
        assert refused.status_code == 422, body
        assert reason in refused.json()["detail"], refused.json()
    purchases_only = bearer(tokens["purchases"])
    assert (
        await client.post("/api/v1/broadcasts", json={"text": "x"}, headers=purchases_only)
    ).status_code == 403
    assert (await client.get("/api/v1/broadcasts/1")).status_code == 401
    missing = await client.get("/api/v1/broadcasts/999", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


async def test_an_id_beyond_any_database_id_is_invalid_not_an_error(client, tokens):
    answer = await client.get(
        "/api/v1/broadcasts/9223372036854775808", headers=bearer(tokens["admin"])
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid"


async def test_a_photo_by_url_or_file_id_with_or_without_a_caption(
    client, tokens, database, program
):
    await members(database, program, 1)
    headers = bearer(tokens["admin"])
    for body in (
        {"text": "<i>New</i> in", "photo": "https://shop.example/new.jpg"},
        {"photo": "AgACAgIAAxkBAAIBZ2abc_def-123"},
    ):
        answer = await client.post("/api/v1/broadcasts", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        async with SqlUnitOfWork(database, read_only=True) as uow:
            stored = await uow.broadcasts.get(answer.json()["id"])
        assert (stored.content.photo, stored.content.text) == (body["photo"], body.get("text", ""))
