"""The HTTP face of the emulator: `/bot<token>/<method>` and `/file/bot<token>/<path>`."""

from __future__ import annotations

import json
import mimetypes
import re
from typing import Any

from aiohttp import web

from bot.emulator.errors import ApiError
from bot.emulator.methods import call
from bot.emulator.params import Params, Upload
from bot.emulator.state import State

__all__ = ["create_app", "read_params"]

_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
STATE_KEY = web.AppKey("state", State)


def _answer(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
    )


def _token_error(state: State, token: str) -> ApiError | None:
    if token == state.token:
        return None
    if _TOKEN.fullmatch(token):
        return ApiError(401, "Unauthorized")
    return ApiError(404, "Not Found")


async def read_params(request: web.Request) -> Params:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: request body must be a JSON object")
            values.update(body)
        elif content_type in _FORMS:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.filename, value.content_type, value.file.read())
                elif isinstance(value, (bytes, bytearray)):
                    values[key] = bytes(value).decode("utf-8", "replace")
                else:
                    values[key] = value
    return Params(values, files)


async def _api(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    error = _token_error(state, request.match_info["token"])
    if error is not None:
        return _answer(error.code, error.payload())
    try:
        params = await read_params(request)
    except ApiError as failure:
        return _answer(failure.code, failure.payload())
    status, body = await call(state, request.match_info["method"], params)
    return _answer(status, body)


async def _file(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    error = _token_error(state, request.match_info["token"])
    record = state.file_paths.get(request.match_info["path"])
    if error is None and record is None:
        error = ApiError(404, "Not Found")
    if error is not None:
        return _answer(error.code, error.payload())
    assert record is not None
    kind = mimetypes.guess_type(record.path)[0] or "application/octet-stream"
    return web.Response(body=record.data, content_type=kind)


def create_app(state: State) -> web.Application:
    """The aiohttp application serving one emulated bot."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", "/bot{token}/{method}", _api)
    app.router.add_get("/file/bot{token}/{path:.+}", _file)

    async def reply(body: dict[str, Any]) -> None:
        name = str(body.pop("method"))
        await call(state, name, Params(body))

    state.webhook.on_reply = reply
    return app
