"""Telegram's initData check and the Mini App's signed card code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.web.telegram_auth import InitDataRefused, check_init_data, sign_init_data
from domain.card_codes import (
    CardCodeRefused,
    card_key,
    is_card_code,
    read_card_code,
    signed_card_code,
)

TOKEN = "123456:TEST-token"
NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
USER = {"id": 4242, "first_name": "Ana", "language_code": "es"}


def init_data(at: datetime = NOW, token: str = TOKEN, **fields: str) -> str:
    signed = {"auth_date": str(int(at.timestamp())), "user": json.dumps(USER), **fields}
    return sign_init_data(signed, token)


def test_genuine_init_data_names_its_user() -> None:
    user = check_init_data(init_data(query_id="AAH"), TOKEN, NOW, 3600)
    assert (user.id, user.first_name, user.language_code) == (4242, "Ana", "es")


def test_signature_matches_telegram_algorithm() -> None:
    """Telegram's documented computation, written out independently of the module."""
    import hashlib
    import hmac

    fields = {"auth_date": "1772465400", "user": '{"id":1}', "query_id": "Q"}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    key = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    assert dict(parse_qsl(sign_init_data(fields, TOKEN)))["hash"] == expected


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda d: d.replace("Ana", "Eve"), "not signed"),
        (lambda d: d.replace("4242", "4243"), "not signed"),
        (lambda d: d + "&extra=1", "not signed"),
        (lambda d: "&".join(p for p in d.split("&") if not p.startswith("hash=")), "not signed"),
        (lambda d: d + "&auth_date=1", "repeats"),
        (lambda d: "", "missing"),
        (lambda d: d + "&x=" + "a" * 5000, "too long"),
    ],
)
def test_tampered_init_data_is_refused(tamper, reason) -> None:
    with pytest.raises(InitDataRefused, match=reason):
        check_init_data(tamper(init_data()), TOKEN, NOW, 3600)


def test_init_data_of_another_bot_is_refused() -> None:
    with pytest.raises(InitDataRefused, match="not signed"):
        check_init_data(init_data(token="999:OTHER"), TOKEN, NOW, 3600)


def test_init_data_older_than_max_age_is_refused() -> None:
    fresh = init_data(at=NOW - timedelta(seconds=3600))
    assert check_init_data(fresh, TOKEN, NOW, 3600).id == 4242
    with pytest.raises(InitDataRefused, match="expired"):
        check_init_data(init_data(at=NOW - timedelta(seconds=3601)), TOKEN, NOW, 3600)
    with pytest.raises(InitDataRefused, match="expired"):
        check_init_data(init_data(at=NOW + timedelta(minutes=5)), TOKEN, NOW, 3600)


@pytest.mark.parametrize("user", ["", "not json", '{"first_name":"A"}', '{"id":"1"}', '{"id":0}'])
def test_init_data_without_a_user_is_refused(user: str) -> None:
    signed = sign_init_data({"auth_date": str(int(NOW.timestamp())), "user": user}, TOKEN)
    with pytest.raises(InitDataRefused, match="no user"):
        check_init_data(signed, TOKEN, NOW, 3600)


def test_init_data_with_a_non_ascii_hash_is_refused() -> None:
    fields = dict(parse_qsl(init_data()))
    fields["hash"] = "é" * 64
    with pytest.raises(InitDataRefused, match="not signed"):
        check_init_data(urlencode(fields), TOKEN, NOW, 3600)


KEY = card_key(b"bot secret")


def test_card_code_reads_back_within_its_life() -> None:
    code = signed_card_code("k7m2-q9xr", NOW, KEY)
    assert is_card_code(code)
    assert code.startswith("K7M2Q9XR.")
    assert read_card_code(code, KEY, NOW + timedelta(seconds=120), 120) == "K7M2Q9XR"
    assert read_card_code(code.lower(), KEY, NOW, 120) == "K7M2Q9XR"  # a scanner's case


def test_expired_card_code_is_refused() -> None:
    code = signed_card_code("K7M2Q9XR", NOW, KEY)
    with pytest.raises(CardCodeRefused) as refused:
        read_card_code(code, KEY, NOW + timedelta(seconds=121), 120)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.replace("K7M2Q9XR", "K7M2Q9XS"),  # another member
        lambda c: c.replace(c.split(".")[1], str(int(c.split(".")[1]) + 60)),  # made younger
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),
        lambda c: c.rsplit(".", 1)[0],
        lambda c: c + ".1",
    ],
)
def test_tampered_card_code_is_refused(tamper) -> None:
    code = signed_card_code("K7M2Q9XR", NOW, KEY)
    with pytest.raises(CardCodeRefused) as refused:
        read_card_code(tamper(code), KEY, NOW + timedelta(seconds=1), 120)
    assert refused.value.reason == "forged"


def test_card_code_of_another_bot_token_is_refused() -> None:
    code = signed_card_code("K7M2Q9XR", NOW, card_key(b"another bot's secret"))
    with pytest.raises(CardCodeRefused):
        read_card_code(code, KEY, NOW, 120)


def test_plain_codes_are_not_card_codes() -> None:
    assert not is_card_code("K7M2-Q9XR")
    assert not is_card_code("+34600000000")
