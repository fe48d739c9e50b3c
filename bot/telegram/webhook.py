"""The webhook endpoint both adapters serve: secret checked, retries answered once.

Telegram sends every update with `X-Telegram-Bot-Api-Secret-Token`; a request without the
right one (a missing, wrong or non-ASCII header) is refused with 403 before anything is
parsed. Telegram retries a delivery it
thinks failed, so an update id seen recently is acknowledged without handling it again.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REMEMBERED_UPDATES = 10_000

Feed = Callable[[dict[str, Any]], Awaitable[None]]


class RecentUpdates:
    """The last update ids handled, oldest forgotten first."""

    def __init__(self, size: int = REMEMBERED_UPDATES) -> None:
        self.size = size
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        """True the first time an id is offered, False for a repeat."""
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


def webhook_app(path: str, secret: str, feed: Feed) -> web.Application:
    """An aiohttp app answering POST `path` with Telegram's updates."""
    recent = RecentUpdates()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        # A header that is not ASCII (aiohttp keeps undecodable bytes as surrogates, which
        # `encode()` refuses) cannot be the secret: refused like any other wrong one.
        if not (given.isascii() and hmac.compare_digest(given.encode(), secret.encode())):
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            update = json.loads(await request.read())
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "not an update"}, status=400)
        if recent.first_time(update_id):
            await feed(update)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post(path, receive)
    return app
