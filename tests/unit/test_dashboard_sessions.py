"""The dashboard's session cookie and CSRF tokens: signed, expiring, bound to one session."""

from __future__ import annotations

from bot.web.sessions import (
    SESSION_SECONDS,
    cookie_value,
    csrf_ok,
    csrf_token,
    new_session,
    read_session,
    session_key,
)

NOW = 1_780_000_000
KEY = session_key("123456:TOKEN")


def test_a_cookie_reads_back_until_it_expires() -> None:
    session = new_session(42, "es", NOW)
    value = cookie_value(KEY, session)
    assert read_session(KEY, value, NOW) == session
    assert read_session(KEY, value, NOW + SESSION_SECONDS - 1) == session
    assert read_session(KEY, value, NOW + SESSION_SECONDS) is None


def test_a_changed_forged_or_malformed_cookie_is_refused() -> None:
    value = cookie_value(KEY, new_session(42, "en", NOW))
    telegram_id, expires, locale, nonce, tag = value.split(".")
    changed = [
        f"43.{expires}.{locale}.{nonce}.{tag}",  # someone else
        f"{telegram_id}.{int(expires) + 3600}.{locale}.{nonce}.{tag}",  # stretched
        f"{telegram_id}.{expires}.es.{nonce}.{tag}",
        f"{telegram_id}.{expires}.{locale}.{nonce}.{'0' * len(tag)}",
        cookie_value(session_key("654321:OTHER"), new_session(42, "en", NOW)),
        "",
        "....",
        "x.y.z.w.v",
    ]
    for cookie in changed:
        assert read_session(KEY, cookie, NOW) is None, cookie


def test_a_csrf_token_belongs_to_its_session() -> None:
    mine, other = new_session(42, "en", NOW), new_session(42, "en", NOW)
    assert csrf_ok(KEY, mine, csrf_token(KEY, mine))
    assert not csrf_ok(KEY, mine, csrf_token(KEY, other))
    assert not csrf_ok(KEY, mine, "")
    assert not csrf_ok(session_key("654321:OTHER"), mine, csrf_token(KEY, mine))
