"""Settings from the environment or `.env`: pydantic-settings, validated at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.database import DEFAULT_URL


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    database_url: str = DEFAULT_URL
    loyalty_program: Path | None = None


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def load_settings() -> Settings:
    """Read and validate the settings, or raise SettingsError naming the first bad one."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{name}: {first['msg']}") from error
