"""Every error the API gives has the `{"error", "detail"}` shape: unknown paths, wrong
methods, bodies that are not JSON, and a database that cannot be reached (503)."""

from __future__ import annotations

import httpx

from bot.api.app import create_api
from bot.api.errors import RETRY_AFTER_SECONDS
from domain.program import Program
from domain.services.api_tokens import SCOPES
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.api.conftest import bearer
from tests.conftest import NOW
from tests.integration.helpers import new_member


def shaped(answer, status: int, error: str) -> dict:
    """The answer's body, after checking its status and the error shape."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


async def test_unknown_paths_and_wrong_methods(client, tokens):
    shaped(await client.get("/nowhere"), 404, "not_found")
    shaped(await client.get("/api/v1/nowhere", headers=bearer(tokens["admin"])), 404, "not_found")
    shaped(await client.get("/api/v1/nowhere"), 401, "unauthorized")  # no token: no map
    wrong = await client.get("/api/v1/purchases", headers=bearer(tokens["admin"]))
    shaped(wrong, 405, "method_not_allowed")
    assert wrong.headers["Allow"] == "POST"
    shaped(
        await client.delete("/api/v1/vouchers/ABCD", headers=bearer(tokens["admin"])),
        405,
        "method_not_allowed",
    )


async def test_a_body_that_is_not_json_is_a_400(client, tokens):
    for content in (
        b"{",
        b'{"receipt_id": "R-1",}',
        b"\xff\xfe",
        b"[1, 2",
        b"[" * 100_000,
        b"1" * 5000,
    ):
        answer = await client.post(
            "/api/v1/purchases",
            content=content,
            headers={**bearer(tokens["purchases"]), "Content-Type": "application/json"},
        )
        shaped(answer, 400, "invalid_json")


async def test_a_lone_surrogate_in_a_key_or_a_value_is_a_422(client, tokens):
    for body, field in (
        ('{"text": "x", "\\ud800": 1}', "body: "),
        ('{"text": "a\\udfffb"}', "text: "),
    ):
        answer = await client.post(
            "/api/v1/broadcasts",
            content=body.encode(),
            headers={**bearer(tokens["admin"]), "Content-Type": "application/json"},
        )
        assert shaped(answer, 422, "invalid")["detail"].startswith(field)


def unreachable(database: Database) -> Database:
    """A database of the same engine that cannot be reached."""
    if database.dialect == "postgresql":
        return Database("postgresql+asyncpg://postgres@127.0.0.1:1/gone")
    return Database("sqlite+aiosqlite:////nonexistent-directory/gone.db")


async def test_a_database_that_is_down_is_a_503_with_retry_after(
    database, program: Program, tokens, uow
):
    member = await new_member(uow, program, 1)
    gone = unreachable(database)
    current = [database]
    api = create_api(
        lambda: SqlUnitOfWork(current[0]),
        lambda: SqlUnitOfWork(current[0], read_only=True),
        program,
        lambda: NOW,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api), base_url="http://till"
    ) as client:
        known = bearer(tokens["admin"])
        assert (
            await client.get(f"/api/v1/members/{member.code}", headers=known)
        ).status_code == 200  # the token is cached now
        current[0] = gone
        answers = {
            "read": await client.get(f"/api/v1/members/{member.code}", headers=known),
            "write": await client.post(
                "/api/v1/purchases",
                headers=known,
                json={
                    "receipt_id": "R-1",
                    "member": {"telegram_id": 1},
                    "items": [{"sku": "A", "category": "coffee", "quantity": 1, "unit_price": "1"}],
                },
            ),
            "token check": await client.get(
                f"/api/v1/members/{member.code}", headers=bearer(tokens["members"])
            ),
        }
        for where, answer in answers.items():
            body = shaped(answer, 503, "database_unavailable")
            assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS), where
            assert "try again" in body["detail"]
    await gone.dispose()


def test_the_openapi_document_describes_the_errors_and_scopes(program):
    api = create_api(lambda: None, lambda: None, program, lambda: NOW)  # type: ignore
    document = api.openapi()
    purchase = document["paths"]["/api/v1/purchases"]["post"]
    assert {"400", "401", "403", "404", "409", "413", "422", "500", "503"} <= set(
        purchase["responses"]
    )
    assert "Retry-After" in purchase["responses"]["503"]["headers"]
    assert {"error", "detail"} <= set(document["components"]["schemas"]["ErrorOut"]["required"])
    scopes = {
        (path, method): operation.get("x-scope")
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if path.startswith("/api/v1/")
    }
    assert set(scopes.values()) == SCOPES, scopes  # every operation names a real scope
    assert scopes[("/api/v1/members/{member_code}/adjustments", "post")] == "admin"
