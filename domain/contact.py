"""Checking what members tell us about themselves: phone numbers and time zones."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidRequest

_PHONE_NOISE = re.compile(r"[\s().-]")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def normalize_phone(text: str) -> str:
    """A phone number in E.164 form ('+15550001234'); Telegram sends it without the '+'."""
    phone = _PHONE_NOISE.sub("", text)
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    elif not phone.startswith("+"):
        phone = "+" + phone
    if not _PHONE.match(phone):
        raise InvalidRequest(f"not an international phone number: {text!r}")
    return phone


def check_timezone(name: str) -> str:
    """An IANA time zone name, refused if unknown (a name too long for a file name is an
    OSError when the tzdata package is installed, as python-dateutil installs it)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise InvalidRequest(f"unknown time zone: {name!r}") from error
    return name
