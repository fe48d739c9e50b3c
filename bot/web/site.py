"""What every web page group shares: its settings, the Telegram user check, the page
templates and the static files, served by the merchant API's app on its port.

A page group is a function `site -> APIRouter` included by `create_api` in one line; its
templates live in `bot/web/templates/` (HTML structure, no words) and its words in
`messages/<locale>/web/<group>.j2` (Jinja2 macros, imported by the page: `{% import
"web/member.j2" as t %}`), so every text a person reads is in each locale. Static files
(CSS, JavaScript) are served from `bot/web/static/` under `/static/`: no page loads
anything from another site but Telegram's own WebApp script, which a Mini App must load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from bot.api.batching import UowFactory
from bot.api.errors import ApiError
from bot.settings import Settings
from bot.web.telegram_auth import INIT_DATA_HEADER, InitDataRefused, WebAppUser, check_init_data
from domain.card_codes import card_key
from domain.program import Program
from messages.render import FALLBACK_LOCALE, add_filters, locales
from messages.render import HERE as MESSAGES

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_URL = "/static"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
# Pages opened inside Telegram: its own script, everything else from this server. Telegram
# Web shows a Mini App in a frame of web.telegram.org.
MINI_APP_POLICY = (
    "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors https://web.telegram.org"
)
# Pages opened in a browser (the dashboard): nothing from elsewhere, never in a frame.
BROWSER_POLICY = (
    "default-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@dataclass(frozen=True)
class WebSettings:
    """The settings the pages need: the bot token signs and checks everything they trust."""

    bot_token: str
    card_key: bytes  # signs the Mini App's card codes (domain.card_codes)
    auth_max_age: int = 3600
    card_qr_seconds: int = 120
    admins: frozenset[int] = frozenset()
    web_url: str | None = None  # WEB_URL: when https, the dashboard's cookie is Secure

    @classmethod
    def of(cls, settings: Settings, bot_token: str, secret: bytes) -> WebSettings:
        """WEB_AUTH_MAX_AGE, CARD_QR_SECONDS, ADMIN_IDS and WEB_URL, with the running bot's
        token and its secret (`bot.app.button_secret`), from which the card key is derived."""
        return cls(
            bot_token,
            card_key(secret),
            settings.web_auth_max_age,
            settings.card_qr_seconds,
            settings.admins,
            settings.web_url,
        )


@dataclass(frozen=True)
class Site:
    """One database, program and clock, as every page group sees them."""

    writer: UowFactory
    reader: UowFactory
    program: Program
    clock: Callable[[], datetime]
    settings: WebSettings

    def telegram_user(self, request: Request) -> WebAppUser:
        """The Telegram user whose initData the request carries; 401 unless it is genuine
        and fresh (a route's dependency: `user: Annotated[WebAppUser, Depends(...)]`)."""
        try:
            return check_init_data(
                request.headers.get(INIT_DATA_HEADER, ""),
                self.settings.bot_token,
                self.clock(),
                self.settings.auth_max_age,
            )
        except InitDataRefused as refused:
            raise ApiError(401, "unauthorized", str(refused)) from None


def mount_static(api: FastAPI) -> None:
    """Serve `bot/web/static/` under /static/ (CSS and JavaScript of every page)."""
    api.mount(STATIC_URL, StaticFiles(directory=STATIC), name="static")


@cache
def page_environment(locale: str) -> Environment:
    """Page templates and the locale's words (English where a locale lacks a file), with the
    chat's filters (number, money, plural, date, code, titled)."""
    shown = locale if locale in locales() else FALLBACK_LOCALE
    folders = [TEMPLATES, MESSAGES / shown, MESSAGES / FALLBACK_LOCALE]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(static=STATIC_URL, telegram_script=TELEGRAM_SCRIPT, locale=shown)
    return add_filters(env, shown)


def render_page(template: str, locale: str, /, **context: Any) -> str:
    """A page or a fragment of one (an HTML template of `bot/web/templates/`) in `locale`."""
    return page_environment(locale).get_template(template).render(**context)


def page_response(html: str, policy: str = MINI_APP_POLICY, status: int = 200) -> HTMLResponse:
    """HTML that is never cached and may load only what `policy` allows."""
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": policy,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
