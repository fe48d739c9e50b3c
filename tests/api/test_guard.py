"""The API's front door: no body is read without a good token, and no body past the limit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from bot.api.guard import MAX_BODY_BYTES
from tests.api.conftest import bearer
from tests.integration.helpers import new_member

CHUNK = 64 * 1024
HUGE = 200 * 1024 * 1024  # what the attack sent


class Stream:
    """A request body that counts how much of it the server took."""

    def __init__(self, chunks: int) -> None:
        self.chunks, self.taken = chunks, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.taken += CHUNK
            yield b" " * CHUNK


async def post_stream(
    client: httpx.AsyncClient, path: str, stream: Stream, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        path, content=stream, headers={"Content-Type": "application/json", **headers}
    )


async def test_a_body_without_a_good_token_is_not_read(client, tokens):
    for headers, status in (
        ({}, 401),
        (bearer("lb_wrong"), 401),
        ({"Authorization": "Basic abc"}, 401),
        (bearer(tokens["members"]), 403),
    ):  # valid, without the scope
        stream = Stream(HUGE // CHUNK)
        answer = await post_stream(client, "/api/v1/purchases", stream, headers)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"] == ("unauthorized" if status == 401 else "forbidden")
        assert stream.taken == 0


async def test_a_declared_length_over_the_limit_is_refused_unread(client, tokens):
    stream = Stream(HUGE // CHUNK)
    answer = await post_stream(
        client,
        "/api/v1/purchases",
        stream,
        {**bearer(tokens["purchases"]), "Content-Length": str(HUGE)},
    )
    assert answer.status_code == 413
    assert answer.json() == {
        "error": "payload_too_large",
        "detail": f"the request body is larger than {MAX_BODY_BYTES} bytes",
    }
    assert stream.taken == 0


async def test_a_chunked_body_is_cut_off_at_the_limit(client, tokens):
    for path, scope in (
        ("/api/v1/purchases", "purchases"),
        ("/api/v1/broadcasts", "admin"),
        ("/api/v1/nowhere", "admin"),
    ):
        stream = Stream(HUGE // CHUNK)
        answer = await post_stream(client, path, stream, bearer(tokens[scope]))
        if path.endswith("nowhere"):  # no route reads it: refused without reading it
            assert answer.status_code == 404
            assert stream.taken == 0
            continue
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"] == "payload_too_large"
        assert MAX_BODY_BYTES < stream.taken <= MAX_BODY_BYTES + CHUNK


async def test_a_body_up_to_the_limit_is_taken(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    receipt = json.dumps(
        {
            "receipt_id": "R-1",
            "member": {"member_code": member.code},
            "items": [{"sku": "LATTE", "category": "coffee", "quantity": 1, "unit_price": "4.50"}],
        }
    ).encode()
    padded = receipt + b" " * (MAX_BODY_BYTES - len(receipt))
    headers = {**bearer(tokens["purchases"]), "Content-Type": "application/json"}
    taken = await client.post("/api/v1/purchases", content=padded, headers=headers)
    assert taken.status_code == 201, taken.text
    refused = await client.post("/api/v1/purchases", content=padded + b" ", headers=headers)
    assert refused.status_code == 413


async def test_the_openapi_document_and_the_health_check_need_no_token(client):
    assert (await client.get("/api/v1/openapi.json")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/api/v1/members/ABCD2345")).status_code == 401
