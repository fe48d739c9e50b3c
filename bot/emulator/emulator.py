"""`Emulator`: a local Telegram Bot API server over real HTTP, with simulated users."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from bot.emulator.client import SimulatedGroup, SimulatedUser
from bot.emulator.limits import LimitSettings
from bot.emulator.server import create_app
from bot.emulator.state import ApiCall, BotIdentity, ChatRecord, Json, State, UserRecord
from bot.emulator.validation import check_scope
from bot.emulator.webhook import Delivery

__all__ = ["Emulator"]

GROUP_KINDS = frozenset({"group", "supergroup", "channel"})


class Emulator:
    """A stand-in for api.telegram.org serving one bot on 127.0.0.1 (a free port by default).

    Use it as an async context manager; point the bot at `base_url`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "emulator_bot",
        bot_first_name: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = False,
        strict_html: bool = True,
        record_calls: bool = True,
        webhook_attempts: int = 3,
        webhook_backoff: float = 0.05,
    ) -> None:
        bot_id = int(token.split(":", 1)[0])
        identity = BotIdentity(
            id=bot_id,
            first_name=bot_first_name
            or bot_username.removesuffix("_bot").replace("_", " ").title(),
            username=bot_username,
            can_join_groups=can_join_groups,
            can_read_all_group_messages=can_read_all_group_messages,
            supports_inline_queries=supports_inline_queries,
        )
        self.state = State(
            token,
            identity,
            strict_html=strict_html,
            record_calls=record_calls,
            webhook_attempts=webhook_attempts,
            webhook_backoff=webhook_backoff,
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._users: dict[int, SimulatedUser] = {}
        self._groups: dict[int, SimulatedGroup] = {}

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving."""
        self.state.http = aiohttp.ClientSession()
        runner = web.AppRunner(
            create_app(self.state), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Release waiting polls, stop webhook delivery and the server."""
        self.state.updates.close()
        await self.state.webhook.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.state.http is not None:
            await self.state.http.close()
            self.state.http = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- addresses ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT, for TelegramAPIServer.from_base or f"{base_url}/bot"."""
        return f"http://{self._host}:{self._port}"

    @property
    def api_url(self) -> str:
        """base_url/bot<token>: append "/<method>" to call a method."""
        return f"{self.base_url}/bot{self.state.token}"

    @property
    def token(self) -> str:
        """The bot token the server accepts."""
        return self.state.token

    @property
    def bot(self) -> BotIdentity:
        """The bot's identity (getMe)."""
        return self.state.bot

    # -- people ---------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimulatedUser:
        """A simulated user (created once; later calls return the same one)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        known = self._users.get(user_id)
        if known is not None:
            return known
        record = self.state.add_user(
            UserRecord(user_id, first_name, last_name, username, language_code)
        )
        self._users[user_id] = user = SimulatedUser(self.state, record)
        return user

    def group(
        self,
        chat_id: int,
        title: str = "Group",
        *,
        kind: str = "group",
        username: str | None = None,
        bot_status: str = "member",
    ) -> SimulatedGroup:
        """A group, supergroup or channel the bot is in (created once)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if kind not in GROUP_KINDS:
            raise ValueError(f"kind must be one of {sorted(GROUP_KINDS)}")
        known = self._groups.get(chat_id)
        if known is not None:
            return known
        chat = self.state.add_group(
            ChatRecord(chat_id, kind, title=title, username=username, bot_status=bot_status)
        )
        self._groups[chat_id] = group = SimulatedGroup(self.state, chat)
        return group

    # -- behaviour ------------------------------------------------------------------------

    def limits(
        self,
        enabled: bool = True,
        *,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 3,
        per_group_per_minute: int = 20,
        global_per_second: float = 30.0,
        global_burst: int = 30,
        paid_per_second: float = 1000.0,
        paid_burst: int = 1000,
    ) -> None:
        """Switch flood limits on (or off) with these rates; buckets start full."""
        self.state.limiter.configure(
            LimitSettings(
                enabled,
                per_chat_per_second,
                per_chat_burst,
                per_group_per_minute,
                global_per_second,
                global_burst,
                paid_per_second,
                paid_burst,
            )
        )

    def force_429(self, retry_after: int = 1, times: int = 1) -> None:
        """Answer the bot's next `times` sends with 429 Too Many Requests, retry_after."""
        self.state.limiter.force_429(retry_after, times)

    def answer_slowly(self, seconds: float) -> None:
        """Answer sendMessage and sendPhoto `seconds` late: the message is delivered at once,
        the bot hears back only then (0: at once again)."""
        self.state.send_delay = seconds

    # -- observation ----------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        """Every Bot API call the bot made, in order."""
        return self.state.calls

    def calls_to(self, method: str) -> list[ApiCall]:
        """The calls of one method (name matched case-insensitively)."""
        wanted = method.lower()
        return [call for call in self.state.calls if call.method.lower() == wanted]

    @property
    def webhook_url(self) -> str | None:
        """The webhook set by the bot, if any."""
        config = self.state.webhook.config
        return config.url if config else None

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt, in order."""
        return self.state.webhook.deliveries

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed (polling) or delivered (webhook)."""
        return len(self.state.updates) + self.state.webhook.in_flight

    def commands(self, scope: Json | None = None, language_code: str = "") -> list[Json]:
        """The command menu the bot set for a scope and language."""
        key = (State.scope_key(check_scope(scope)), language_code)
        return list(self.state.commands.get(key, []))

    def file(self, file_id: str) -> bytes:
        """The bytes of a file the bot uploaded."""
        return self.state.files[file_id].data

    def emit(self, kind: str, payload: Json) -> Json | None:
        """Queue a hand-made update of any type (None if allowed_updates drops it)."""
        return self.state.emit(kind, payload)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until predicate() is true, re-checked after every bot call; else TimeoutError."""
        await self.state.changes.wait_until(lambda: bool(predicate()), timeout)
