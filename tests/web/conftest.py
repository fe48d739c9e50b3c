"""Browser tests: the real app on a free port over a temporary database, driven by
headless Chromium through Playwright, with a stand-in for Telegram's WebApp script.

Debian's Chromium (`/usr/bin/chromium`, installed by `.ci/run`) is launched by path:
Playwright's own browser download is not used. Without it the tests skip with the reason,
except under CI, where they must run. Every request the page makes to another site but
Telegram's script (served by the stand-in) is refused and fails the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.api.app import create_api
from bot.api.serve import EmbeddedServer
from bot.app import button_secret
from bot.web.site import TELEGRAM_SCRIPT, WebSettings
from bot.web.telegram_auth import sign_init_data
from domain.card_codes import card_key
from domain.program import Challenge, Program, StampCard
from domain.program_file import default_program_path, load_program
from storage.database import Database
from storage.tables import metadata
from storage.uow import SqlUnitOfWork, UnitsOfWork

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
BOT_TOKEN = "123456:WEB-TEST-token"
SCREENSHOTS = (
    Path(  # SCREENSHOTS=docs/screenshots refreshes the README's; a test run writes none there
        os.environ.get("SCREENSHOTS") or Path(tempfile.gettempdir()) / "loyalty-bot-screenshots"
    )
)
STAND_IN = (Path(__file__).parent / "telegram_stand_in.js").read_text()
WIDTHS = {"phone": 390, "desktop": 1280}
LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
}
DARK = {
    "bg_color": "#212d3b",
    "text_color": "#ffffff",
    "hint_color": "#7d8b99",
    "link_color": "#5eafff",
    "button_color": "#50a8eb",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#152331",
}


# The bundled program with a stamp card and two challenges, so every screen of the Mini App
# shows: one counts every member's purchases, one they join first.
PROGRAM = replace(
    load_program(default_program_path()),
    stamps=(StampCard("coffee-card", "Coffee card", 6, "coffee", categories=("coffee",)),),
    challenges=(
        Challenge("five", "Five visits", "purchases", Decimal(5), days=30, bonus=100),
        Challenge(
            "spender", "Big spender", "spend", Decimal(100), days=30, opt_in=True, reward="coffee"
        ),
    ),
)


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


def init_data(
    telegram_id: int,
    language: str = "en",
    at: datetime | None = None,
    token: str = BOT_TOKEN,
) -> str:
    """initData for `telegram_id`, signed with `token` as Telegram signs it, made `at`."""
    moment = at or datetime.now(UTC)
    user = {"id": telegram_id, "first_name": f"User{telegram_id}", "language_code": language}
    fields = {
        "query_id": f"Q{telegram_id}",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(moment.timestamp())),
    }
    return sign_init_data(fields, token)


@dataclass
class LiveServer:
    """The app served on 127.0.0.1 in a thread with its own event loop, over `database`."""

    database: Database
    program: Program
    settings: WebSettings
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _server: EmbeddedServer | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the live server did not start")

    def _serve(self, sock: socket.socket) -> None:
        asyncio.run(self._main(sock))

    async def _main(self, sock: socket.socket) -> None:
        import uvicorn

        self._loop = asyncio.get_running_loop()
        async with self.database.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
        units = UnitsOfWork(self.database)
        clock = lambda: datetime.now(UTC)  # noqa: E731
        api = create_api(units.writer, units.reader, self.program, clock, web=self.settings)
        config = uvicorn.Config(api, log_level="warning", lifespan="off")
        self._server = EmbeddedServer(config)
        self._loop.call_soon(self._ready.set)
        try:
            await self._server.serve(sockets=[sock])
        finally:
            await self.database.dispose()

    def run(self, work: Callable[[SqlUnitOfWork], Coroutine[Any, Any, Any]]) -> Any:
        """Run `work(unit of work)` on the server's loop (where its database lives)."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(work(SqlUnitOfWork(self.database)), self._loop)
        return future.result(30)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(30)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The real app (API and pages) on a free port over a new SQLite database."""
    token = BOT_TOKEN
    settings = WebSettings(token, card_key(button_secret(token)))
    server = LiveServer(Database(f"sqlite+aiosqlite:///{tmp_path}/web.db"), PROGRAM, settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, for one test: Playwright's synchronous API holds an event
    loop running in this thread while it is open, which the asynchronous tests' own loops
    cannot share, so it is closed again after each test."""
    reason = chromium_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the browser tests must run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@dataclass
class Telegram:
    """What the stand-in WebApp script gives the page: initData, theme, colour scheme."""

    init_data: str = ""
    theme: dict[str, str] = field(default_factory=lambda: dict(LIGHT))
    scheme: str = "light"

    def script(self) -> str:
        given = {
            "initData": self.init_data,
            "themeParams": self.theme,
            "colorScheme": self.scheme,
        }
        return f"window.__telegram = {json.dumps(given)};\n{STAND_IN}"


@pytest.fixture
def new_page(browser: Any, live: LiveServer) -> Iterator[Callable[..., Any]]:
    """A factory of pages `(telegram=Telegram(...), width=390)` with the stand-in served
    for Telegram's script; a request to any other site fails the test."""
    contexts: list[Any] = []
    foreign: list[str] = []

    def make(telegram: Telegram | None = None, width: int = WIDTHS["phone"]) -> Any:
        shown = telegram or Telegram()
        context = browser.new_context(viewport={"width": width, "height": 844})
        contexts.append(context)
        page = context.new_page()

        def route(route: Any) -> None:
            url = route.request.url
            if url == TELEGRAM_SCRIPT:
                route.fulfill(body=shown.script(), content_type="application/javascript")
            elif url.startswith(live.url + "/"):
                route.continue_()
            else:
                foreign.append(url)
                route.abort()

        page.route("**/*", route)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not foreign, f"the page fetched from other sites: {foreign}"


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page to SCREENSHOTS/<name>.png (docs/screenshots/ holds the README's)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
