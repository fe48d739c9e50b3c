"""Settings every command reads: the webhook secret's rule, database URL spellings, LOG_LEVEL;
where they come from (the environment over `.env`), and what a bad `.env` line gets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError, load_settings
from storage.database import normalise_url

GOOD_SECRET = "A-good_secret-0123456789"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("", "must be 16 to 256 characters long, not 0"),
        ("short-secret_15", "must be 16 to 256 characters long, not 15"),
        ("x" * 257, "must be 16 to 256 characters long, not 257"),
        ("has a space in it here", "only letters A-Z and a-z, digits, _ and - are allowed"),
        ("sécret-sécret-sécret", "only letters A-Z and a-z, digits, _ and - are allowed"),
    ],
)
def test_a_webhook_secret_outside_the_rule_stops_every_command(secret, reason, monkeypatch, capsys):
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith(f"WEBHOOK_SECRET: {reason}")
    assert main(["db", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"loyalty-bot: setting WEBHOOK_SECRET: {reason}")
    assert len(err.splitlines()) == 1
    if secret:
        assert secret not in err


@pytest.mark.parametrize("secret", ["0123456789abcdef", "x" * 256, GOOD_SECRET])
def test_a_webhook_secret_of_16_to_256_allowed_characters_is_taken(secret, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    settings = load_settings()
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/loyalty", "postgresql+asyncpg://u:p@db:5432/loyalty"),
        ("postgres://u:p@db/loyalty", "postgresql+asyncpg://u:p@db/loyalty"),
        ("POSTGRESQL://u@db/loyalty", "postgresql+asyncpg://u@db/loyalty"),
        ("postgresql+asyncpg://u@db/loyalty", "postgresql+asyncpg://u@db/loyalty"),
        ("sqlite:///loyalty.db", "sqlite+aiosqlite:///loyalty.db"),
        (
            "sqlite:////var/lib/loyalty/loyalty.db",
            "sqlite+aiosqlite:////var/lib/loyalty/loyalty.db",
        ),
        ("sqlite+aiosqlite:///loyalty.db", "sqlite+aiosqlite:///loyalty.db"),
    ],
)
def test_the_usual_database_url_spellings_get_the_async_driver(given, used, monkeypatch):
    assert normalise_url(given) == used
    monkeypatch.setenv("DATABASE_URL", given)
    assert load_settings().database_url == used


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://u:hunter2@db/loyalty", "mysql:// is not supported; write sqlite+aiosqlite:///"),
        ("postgresql+psycopg2://u:hunter2@db/x", "postgresql+psycopg2:// is not supported"),
        (
            "loyalty.db",
            "not a database URL; write sqlite+aiosqlite:///loyalty.db or "
            "postgresql+asyncpg://user:password@host:5432/db",
        ),
        ("sqlite://", "an in-memory SQLite database is lost at exit"),
        ("sqlite:///:memory:", "an in-memory SQLite database is lost at exit"),
    ],
)
def test_an_unknown_database_url_says_what_to_write(url, reason, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"loyalty-bot: setting DATABASE_URL: {reason}")
    assert len(err.splitlines()) == 1
    assert "hunter2" not in err


def test_log_level_in_any_case(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError, match=r"^LOG_LEVEL: "):
        load_settings()


def test_a_rule_across_settings_names_them_itself(monkeypatch):
    monkeypatch.setenv("SEND_RATE", "50")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == "SEND_RATE: above 30 messages/s needs PAID_BROADCAST=1"


def test_web_url_needs_the_pages_served(monkeypatch):
    monkeypatch.setenv("WEB_URL", "https://shop.example.com")
    monkeypatch.setenv("API_PORT", "0")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == (
        "WEB_URL: the pages it opens are served on API_PORT, which is 0 (off); "
        "set API_PORT or unset WEB_URL"
    )
    monkeypatch.setenv("API_PORT", "8080")
    assert load_settings().mini_app_url == "https://shop.example.com/app/"


def test_web_settings(monkeypatch, capsys):
    settings = load_settings()
    assert (settings.web_url, settings.web_auth_max_age, settings.card_qr_seconds) == (
        None,
        3600,
        120,
    )
    assert settings.mini_app_url is None
    monkeypatch.setenv("WEB_URL", "https://shop.example/loyalty/")
    monkeypatch.setenv("WEB_AUTH_MAX_AGE", "600")
    monkeypatch.setenv("CARD_QR_SECONDS", "60")
    settings = load_settings()
    assert settings.mini_app_url == "https://shop.example/loyalty/app/"
    assert (settings.web_auth_max_age, settings.card_qr_seconds) == (600, 60)
    monkeypatch.setenv("WEB_URL", "http://shop.example")
    with pytest.raises(SettingsError, match=r"^WEB_URL: expected the public https:// URL"):
        load_settings()
    monkeypatch.setenv("WEB_URL", "https://shop.example")
    monkeypatch.setenv("CARD_QR_SECONDS", "5")
    with pytest.raises(SettingsError, match=r"^CARD_QR_SECONDS: "):
        load_settings()


@pytest.fixture
def here(tmp_path, monkeypatch):
    """An empty working directory, and no setting in the environment."""
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_env_file_values_and_the_environment_over_them(here, monkeypatch):
    (here / ".env").write_text(
        "# the shop's bot\n"
        "export BOT_TOKEN='123:from-file'\n"
        "admin_ids = 1, 2  # the owners\n"
        'WEBHOOK_URL="https://bot.example.com/hook"\n'
        "API_PORT=9000\n"
        "UNRELATED=anything at all\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "123:from-file"
    assert (settings.admins, settings.webhook_url, settings.api_port) == (
        frozenset({1, 2}),
        "https://bot.example.com/hook",
        9000,
    )
    monkeypatch.setenv("bot_token", "456:from-env")
    monkeypatch.setenv("Api_Port", "9001")
    settings = load_settings()
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "456:from-env"
    assert (settings.api_port, settings.admin_ids) == (9001, "1, 2")


def test_an_empty_value_is_an_empty_string(here):
    (here / ".env").write_text("ADMIN_IDS=\nBOT_TOKEN=\n")
    settings = load_settings()
    assert settings.admin_ids == ""
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == ""
    (here / ".env").write_text("SEND_RATE=\n")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == (
        "SEND_RATE: Input should be a valid number, unable to parse string as a number"
    )


def test_a_bad_value_in_the_file_reads_as_in_the_environment(here, monkeypatch):
    (here / ".env").write_text("WEBHOOK_SECRET=short-secret_15\n")
    with pytest.raises(SettingsError) as from_file:
        load_settings()
    (here / ".env").unlink()
    monkeypatch.setenv("WEBHOOK_SECRET", "short-secret_15")
    with pytest.raises(SettingsError) as from_environment:
        load_settings()
    assert str(from_file.value) == str(from_environment.value)
    assert str(from_file.value).startswith("WEBHOOK_SECRET: must be 16 to 256 characters long")


def test_a_line_that_is_not_a_setting_stops_every_command(here, capsys):
    (here / ".env").write_text("DATABASE_URL=sqlite:///x.db\n\nBOT_TOKEN 123:hunter2\n")
    with pytest.raises(SettingsError, match=r"^\.env line 3: expected NAME=value$"):
        load_settings()
    assert main(["db", "check"]) == 2
    err = capsys.readouterr().err
    assert err == "loyalty-bot: setting .env line 3: expected NAME=value\n"


def test_the_constructor_reads_no_environment(here, monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "123:from-env")
    (here / ".env").write_text("API_PORT=9000\n")
    settings = Settings(database_url="sqlite:///x.db")
    assert (settings.bot_token, settings.api_port) == (None, 8080)
    assert settings.database_url == "sqlite+aiosqlite:///x.db"


def test_reading_the_settings_imports_neither_pydantic_settings_nor_dotenv(here):
    (here / ".env").write_text("BOT_TOKEN=123:abc\n")
    script = (
        "import sys\n"
        "from bot.settings import load_settings\n"
        "assert load_settings().bot_token.get_secret_value() == '123:abc'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic_settings', 'dotenv')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout == "[]\n"
