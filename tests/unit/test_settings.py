"""Settings every command reads: the webhook secret's rule, database URL spellings, LOG_LEVEL."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from storage.database import normalise_url

GOOD_SECRET = "A-good_secret-0123456789"


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
