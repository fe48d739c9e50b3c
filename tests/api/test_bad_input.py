"""Bad input never reaches the database as an error: a NUL or a lone surrogate in any text,
an integer past BIGINT, a text longer than its column: each is a 422 naming the field, and
nothing is written. On PostgreSQL these used to be 500s; on SQLite a NUL was stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bot.api.app import create_api
from bot.api.schemas import MAX_CODE
from domain.validation import MAX_BIGINT
from storage.database import Database
from storage.tables import metadata
from tests.api.conftest import bearer
from tests.conftest import NOW
from tests.integration.helpers import new_member

CODE = "K7M2-Q9XR"  # replaced by the test member's code
# Each body once with every string field it can have (see test_the_examples_cover_...).
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/api/v1/purchases",
        "purchases",
        {
            "receipt_id": "R-1",
            "member": {"member_code": CODE},
            "store": "Main St",
            "items": [{"sku": "LATTE", "category": "coffee", "quantity": 1, "unit_price": 4.5}],
        },
    ),
    (
        "/api/v1/purchases",
        "purchases",
        {
            "receipt_id": "R-2",
            "member": {"phone": "+15550001234"},
            "items": [{"sku": "LATTE", "category": "coffee", "quantity": 1, "unit_price": 4.5}],
        },
    ),
    ("/api/v1/refunds", "purchases", {"receipt_id": "R-1", "amount": 1, "refund_id": "F-1"}),
    (f"/api/v1/members/{CODE}/adjustments", "admin", {"points": 5, "reason": "sorry"}),
    (
        "/api/v1/broadcasts",
        "admin",
        {
            "text": "Hello",
            "photo": "https://shop.example/a.png",
            "button": {"text": "Go", "url": "https://shop.example"},
            "segment": {"tier": "Member", "category": "coffee", "locale": "en"},
        },
    ),
    (
        "/api/v1/broadcasts",
        "admin",
        {"text": "Hello", "button": {"text": "Take it", "reward_id": "coffee"}},
    ),
]


def with_each_text(value: Any, bad: str, where: tuple[Any, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(field, a copy of `value` with that one string field replaced by `bad`), for each."""
    if isinstance(value, str):
        yield ".".join(map(str, where)), bad
    elif isinstance(value, dict):
        for key, item in value.items():
            for field, changed in with_each_text(item, bad, (*where, key)):
                yield field, {**value, key: changed}
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for field, changed in with_each_text(item, bad, (*where, index)):
                yield field, [*value[:index], changed, *value[index + 1 :]]


async def row_counts(database: Database) -> dict[str, int]:
    async with database.reader.connect() as conn:
        return {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in metadata.sorted_tables
        }


@pytest.fixture
async def code(uow, program) -> str:
    """The code of a member the examples name."""
    member = await new_member(uow, program, 1)
    assert member.code is not None
    return member.code


def example(path: str, body: dict[str, Any], code: str) -> tuple[str, dict[str, Any]]:
    return path.replace(CODE, code), {**body, "member": {"member_code": code}} if (
        body.get("member") == {"member_code": CODE}
    ) else body


def body_of(index: int, code: str) -> dict[str, Any]:
    """The body of EXAMPLES[index], naming the member of `code`."""
    path, _, body = EXAMPLES[index]
    return example(path, body, code)[1]


async def refused(client, path: str, body: Any, token: str, field: str, reason: str) -> None:
    answer = await client.post(
        path,
        content=json.dumps(body),  # escapes a lone surrogate
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, (path, field, answer.text)
    detail = answer.json()["detail"]
    assert detail.startswith(f"{field}: "), (field, detail)
    assert reason in detail, (field, detail)


async def test_a_nul_or_a_lone_surrogate_in_any_text_field(client, tokens, database, code):
    before = await row_counts(database)
    for path, scope, body in EXAMPLES:
        path, body = example(path, body, code)
        for bad, reason in (("ab\x00c", "NUL"), ("ab\ud800c", "valid")):
            for field, changed in with_each_text(body, bad):
                await refused(client, path, changed, tokens[scope], field, reason)
    assert await row_counts(database) == before


async def test_a_nul_in_a_path_parameter(client, tokens, code):
    for method, path, field in (
        ("GET", "/api/v1/members/{}", "member_code"),
        ("POST", "/api/v1/members/{}/adjustments", "member_code"),
        ("GET", "/api/v1/vouchers/{}", "code"),
        ("POST", "/api/v1/vouchers/{}/use", "code"),
    ):
        for value in (code[:4] + "\x00" + code[4:], "\x00", "A" * (MAX_CODE + 1)):
            answer = await client.request(
                method,
                path.format(quote(value)),
                json={"points": 1, "reason": "x"},
                headers=bearer(tokens["admin"]),
            )
            assert answer.status_code == 422, (path, value, answer.text)
            assert answer.json()["detail"].startswith(f"{field}: ")


async def test_integers_past_bigint(client, tokens, database, code):
    before = await row_counts(database)
    purchase, adjustment, broadcast = body_of(0, code), body_of(3, code), body_of(5, code)
    cases = [
        (
            "/api/v1/purchases",
            "purchases",
            {**purchase, "member": {"telegram_id": 2**63}},
            "member.telegram_id",
        ),
        (
            "/api/v1/purchases",
            "purchases",
            {**purchase, "member": {"telegram_id": 0}},
            "member.telegram_id",
        ),
        (
            "/api/v1/purchases",
            "purchases",
            {**purchase, "items": [{**purchase["items"][0], "quantity": 2**63}]},
            "items.0.quantity",
        ),
        (f"/api/v1/members/{code}/adjustments", "admin", {**adjustment, "points": 2**63}, "points"),
        (
            f"/api/v1/members/{code}/adjustments",
            "admin",
            {**adjustment, "points": -(2**64)},
            "points",
        ),
        (
            "/api/v1/broadcasts",
            "admin",
            {**broadcast, "button": {"text": "Go", "bonus_points": 2**63}},
            "button.bonus_points",
        ),
        (
            "/api/v1/broadcasts",
            "admin",
            {**broadcast, "segment": {"min_balance": 2**63}},
            "segment.min_balance",
        ),
        (
            "/api/v1/broadcasts",
            "admin",
            {**broadcast, "segment": {"inactive_days": 2**63}},
            "segment.inactive_days",
        ),
    ]
    for path, scope, body, field in cases:
        await refused(client, path, body, tokens[scope], field, "")
    assert await row_counts(database) == before
    nobody = await client.post(
        "/api/v1/purchases",
        headers=bearer(tokens["purchases"]),
        json={**purchase, "member": {"telegram_id": MAX_BIGINT}},
    )
    assert nobody.status_code == 404


async def test_times_before_2000_or_without_a_utc_equivalent(client, tokens, database, code):
    before = await row_counts(database)
    purchase = body_of(0, code)
    for moment in (
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-10:00",
        "1999-12-31T23:59:59Z",
    ):
        await refused(
            client,
            "/api/v1/purchases",
            {**purchase, "occurred_at": moment},
            tokens["purchases"],
            "occurred_at",
            "from 2000-01-01 on",
        )
    assert await row_counts(database) == before
    kept = await client.post(
        "/api/v1/purchases",
        headers=bearer(tokens["purchases"]),
        json={**purchase, "occurred_at": "2000-01-01T01:00:00+01:00"},
    )
    assert kept.status_code == 201, kept.text


async def test_texts_at_their_longest_are_stored_and_one_more_is_refused(client, tokens, code):
    longest = {
        "receipt_id": "R" * 120,
        "member": {"member_code": code},
        "store": "S" * 128,
        "items": [{"sku": "K" * 64, "category": "c" * 64, "quantity": 1, "unit_price": "1"}],
    }
    stored = await client.post(
        "/api/v1/purchases", json=longest, headers=bearer(tokens["purchases"])
    )
    assert stored.status_code == 201, stored.text
    refund = await client.post(
        "/api/v1/refunds",
        headers=bearer(tokens["purchases"]),
        json={"receipt_id": "R" * 120, "amount": "1", "refund_id": "F" * 120},
    )
    assert refund.status_code == 200, refund.text
    link = "https://shop.example/"
    broadcast = {
        "text": "x" * 1024,
        "photo": link + "p" * (2048 - len(link)),
        "button": {"text": "b" * 64, "url": link + "u" * (512 - len(link))},
        "segment": {"category": "c" * 64},
    }
    sent = await client.post("/api/v1/broadcasts", json=broadcast, headers=bearer(tokens["admin"]))
    assert sent.status_code == 201, sent.text
    too_long = {**broadcast, "button": {"text": "b", "url": link + "u" * (513 - len(link))}}
    await refused(
        client,
        "/api/v1/broadcasts",
        too_long,
        tokens["admin"],
        "button.url",
        "at most 512 characters",
    )
    for path, scope, body in EXAMPLES:
        path, body = example(path, body, code)
        for field, changed in with_each_text(body, "x" * 20_001):
            await refused(client, path, changed, tokens[scope], field, "at most")


def string_fields(
    schema: dict[str, Any], document: dict[str, Any], where: tuple[str, ...] = ()
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field, its schema) for every string field a request body schema has."""
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("anyOf", []):
        yield from string_fields(option, document, where)
    if schema.get("type") == "object":
        for key, item in schema.get("properties", {}).items():
            yield from string_fields(item, document, (*where, key))
    elif schema.get("type") == "array":
        yield from string_fields(schema["items"], document, (*where, "0"))
    elif schema.get("type") == "string" and "format" not in schema and "pattern" not in schema:
        yield ".".join(where), schema  # a date-time or a decimal has its own parser


def test_the_examples_cover_every_text_field_and_each_has_a_length(program):
    document = create_api(
        lambda: None,
        lambda: None,
        program,  # type: ignore
        lambda: NOW,
    ).openapi()
    declared: dict[str, set[str]] = {}
    for path, methods in document["paths"].items():
        for operation in methods.values():
            content = operation.get("requestBody", {}).get("content", {})
            if content:
                schema = content["application/json"]["schema"]
                declared[path] = {field for field, spec in string_fields(schema, document)}
                assert all("maxLength" in spec for _, spec in string_fields(schema, document))
    covered: dict[str, set[str]] = {}
    for path, _, body in EXAMPLES:
        path = path.replace(CODE, "{member_code}")
        covered.setdefault(path, set()).update(field for field, _ in with_each_text(body, ""))
    assert covered == declared
