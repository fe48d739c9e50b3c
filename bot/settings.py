"""Settings from the environment or `.env` (bot.env_file), validated by pydantic at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.env_file import EnvFileError, read_env_file
from storage.database import DEFAULT_URL, normalise_url

WEBHOOK_SECRET_LENGTH = (16, 256)  # Telegram allows 1-256; under 16 is too easy to guess
WEBHOOK_SECRET_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*")  # Telegram's rule for the header
MINI_APP_PATH = "/app/"  # the members' Mini App under WEB_URL (bot.web.member)
ENV_FILE = Path(".env")  # in the working directory; the environment wins over it


class Settings(BaseModel):
    """Everything the service reads from its environment (`load_settings`)."""

    model_config = ConfigDict(validate_default=True, extra="ignore")

    database_url: str = DEFAULT_URL
    loyalty_program: Path | None = None
    bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    bot_framework: Literal["aiogram", "ptb"] = "aiogram"
    admin_ids: str = ""
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8081
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    send_rate: float | None = Field(default=None, gt=0, le=1000)
    paid_broadcast: bool = False
    delivery_lease: float = Field(default=30.0, ge=3)
    scheduler: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    web_url: str | None = None
    web_auth_max_age: int = Field(default=3600, ge=10, le=86400)
    card_qr_seconds: int = Field(default=120, ge=10, le=3600)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        return normalise_url(value)

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        shortest, longest = WEBHOOK_SECRET_LENGTH
        if not shortest <= len(secret) <= longest:
            raise ValueError(
                f"must be {shortest} to {longest} characters long, not "
                f"{len(secret)}; e.g. the output of `openssl rand -hex 32`"
            )
        if not WEBHOOK_SECRET_CHARACTERS.fullmatch(secret):
            raise ValueError(
                "only letters A-Z and a-z, digits, _ and - are allowed "
                "(Telegram's rule); e.g. the output of `openssl rand -hex 32`"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("admin_ids")
    @classmethod
    def _comma_separated_ids(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not part.lstrip("-").isdigit():
                raise ValueError(f"expected comma-separated Telegram user ids, got {part!r}")
        return value

    @field_validator("telegram_api_base", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("http", "https"):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("web_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if urlparse(value).scheme != "https" or not urlparse(value).netloc:
            raise ValueError(f"expected the public https:// URL Telegram opens, got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _free_rate_within_telegram_limit(self) -> Settings:
        if not self.paid_broadcast and self.send_rate is not None and self.send_rate > 30:
            raise ValueError("SEND_RATE: above 30 messages/s needs PAID_BROADCAST=1")
        return self

    @model_validator(mode="after")
    def _pages_served_where_web_url_points(self) -> Settings:
        if self.web_url and not self.api_port:
            raise ValueError(
                "WEB_URL: the pages it opens are served on API_PORT, which is 0 (off); "
                "set API_PORT or unset WEB_URL"
            )
        return self

    @property
    def delivery_rate(self) -> float:
        """Messages per second for the outbox: SEND_RATE, else 25 (1000 when paid)."""
        return self.send_rate or (1000.0 if self.paid_broadcast else 25.0)

    @property
    def mini_app_url(self) -> str | None:
        """The members' Mini App's public URL, when WEB_URL is set."""
        return f"{self.web_url}{MINI_APP_PATH}" if self.web_url else None

    @property
    def admins(self) -> frozenset[int]:
        """ADMIN_IDS as a set of Telegram user ids."""
        return frozenset(int(p) for p in self.admin_ids.split(",") if p.strip())


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def load_settings() -> Settings:
    """Read and validate the settings, or raise SettingsError naming the first bad one."""
    try:
        values = {**_known(read_env_file(ENV_FILE, os.environ)), **_known(os.environ)}
        return Settings.model_validate(values)
    except EnvFileError as error:
        raise SettingsError(str(error)) from error
    except ValidationError as error:
        first = error.errors()[0]
        reason = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings names them itself
            raise SettingsError(reason) from error
        raise SettingsError(f"{str(first['loc'][0]).upper()}: {reason}") from error


def _known(values: Mapping[str, str]) -> dict[str, str]:
    """The values whose name, in any case, is a setting's; keyed by the field's name."""
    return {name.lower(): v for name, v in values.items() if name.lower() in Settings.model_fields}


def require_bot_settings(settings: Settings) -> str:
    """The bot token, after checking what running the bot needs; SettingsError otherwise."""
    if settings.bot_token is None or ":" not in settings.bot_token.get_secret_value():
        raise SettingsError("BOT_TOKEN: required to run the bot, as given by @BotFather")
    if settings.webhook_url and settings.webhook_secret is None:
        raise SettingsError("WEBHOOK_SECRET: required with WEBHOOK_URL")
    return settings.bot_token.get_secret_value()
