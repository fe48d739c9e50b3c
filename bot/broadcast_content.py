"""Checking a merchant's broadcast before it is queued: Telegram must accept it for everyone.

A message Telegram refuses would fail once per recipient, so the HTML, the lengths and the
button are checked once, up front, with a reason the merchant can act on.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.html import HtmlError, parse_html
from domain.broadcasts import BroadcastContent
from domain.errors import InvalidRequest
from domain.program import Program
from domain.segments import Segment

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTON_TEXT = 64
MAX_BONUS = 100_000
FILE_ID = re.compile(r"[A-Za-z0-9_-]{16,}")  # Telegram's file ids are long base64url


def check_content(content: BroadcastContent, program: Program) -> None:
    """Raise InvalidRequest naming the first thing Telegram or the program would refuse."""
    try:
        shown = parse_html(content.text).text
    except HtmlError as error:
        raise InvalidRequest(f"text: not valid Telegram HTML ({error})") from error
    if content.photo is not None:
        _check_photo(content.photo)
        if len(shown) > MAX_CAPTION:  # a photo may go without a caption
            raise InvalidRequest(f"text: at most {MAX_CAPTION} characters with a photo")
    elif not shown.strip() or len(shown) > MAX_TEXT:
        raise InvalidRequest(f"text: 1 to {MAX_TEXT} characters after formatting")
    _check_button(content, program)


def _check_photo(photo: str) -> None:
    url = urlsplit(photo)
    if url.scheme in ("http", "https"):
        if not url.netloc:
            raise InvalidRequest("photo: the URL has no host")
    elif not FILE_ID.fullmatch(photo):
        raise InvalidRequest("photo: a Telegram file_id or an http(s) URL")


def _check_button(content: BroadcastContent, program: Program) -> None:
    targets = [
        t for t in (content.button_url, content.bonus_points, content.reward_id) if t is not None
    ]
    if content.button_text is None:
        if targets:
            raise InvalidRequest("button: a url, bonus or reward needs a button text")
        return
    if not content.button_text.strip() or len(content.button_text) > MAX_BUTTON_TEXT:
        raise InvalidRequest(f"button.text: 1 to {MAX_BUTTON_TEXT} characters")
    if len(targets) != 1:
        raise InvalidRequest("button: exactly one of url, bonus_points, reward_id")
    url = urlsplit(content.button_url or "https://ok")
    if url.scheme not in ("http", "https", "tg") or not (url.netloc or url.scheme == "tg"):
        raise InvalidRequest("button.url: an http(s) or tg:// link")
    if content.bonus_points is not None and not 0 < content.bonus_points <= MAX_BONUS:
        raise InvalidRequest(f"button.bonus_points: 1 to {MAX_BONUS}")
    if content.reward_id is not None and program.reward(content.reward_id) is None:
        raise InvalidRequest(f"button.reward_id: no reward {content.reward_id!r} in the program")


def check_segment(segment: Segment, program: Program) -> None:
    """Raise InvalidRequest for a tier or language the program does not have."""
    tiers = [tier.name for tier in program.tiers.levels]
    if segment.tier is not None and segment.tier not in tiers:
        raise InvalidRequest(f"segment.tier: one of {', '.join(tiers)}")
    if segment.locale is not None and segment.locale not in program.info.locales:
        raise InvalidRequest(f"segment.locale: one of {', '.join(program.info.locales)}")
