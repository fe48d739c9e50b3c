"""Telegram's HTML parse mode: turns marked-up text into plain text plus message entities.

Offsets and lengths are in UTF-16 code units, as Telegram counts them. Errors use the wording
of Telegram's parser where it is known ("Unsupported start tag ...", "Can't find end tag
corresponding to start tag ..."); the caller prefixes them with "can't parse entities: ".

Unlike Telegram, which keeps a stray `&` or `>` as text, the strict mode (the default) refuses
them: the Bot API documentation requires escaping them, and a bot that forgets would break on
the next `<` in a member's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["FormattedText", "HtmlError", "parse_html", "trim", "utf16_len"]

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<>&]")
_CHAR_REF = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_NAME = re.compile(r"[A-Za-z0-9-]+")
_ATTR_NAME = re.compile(r"[A-Za-z0-9_-]+")
_UNQUOTED = re.compile(r"[^\s>]*")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_TRIMMED = " \t\r\n"


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; the message says why, in Telegram's words."""


class FormattedText(NamedTuple):
    """Plain text and its message entities (dicts shaped like Telegram's MessageEntity)."""

    text: str
    entities: list[dict[str, Any]]


def utf16_len(text: str) -> int:
    """Length of a string in UTF-16 code units (an emoji outside the BMP counts 2)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    start: int
    start_char: int
    attrs: dict[str, str]
    order: int
    language: str | None = None
    children: list[str] = field(default_factory=list)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _skip_space(source: str, index: int) -> int:
    while index < len(source) and source[index].isspace():
        index += 1
    return index


def _decode_ref(match: re.Match[str]) -> str | None:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _decode_attribute(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        return _decode_ref(match) or match.group(0)

    return _CHAR_REF.sub(one, value) if "&" in value else value


class _Parser:
    def __init__(self, source: str, strict: bool) -> None:
        self.source = source
        self.strict = strict
        self.pieces: list[str] = []
        self.length = 0
        self.chars = 0
        self.stack: list[_Open] = []
        self.found: list[tuple[int, int, int, dict[str, Any]]] = []
        self.opened = 0

    def fail(self, message: str, index: int | None = None) -> HtmlError:
        if index is not None:
            message = f"{message} at byte offset {_byte_offset(self.source, index)}"
        return HtmlError(message)

    def emit(self, text: str) -> None:
        self.pieces.append(text)
        self.length += utf16_len(text)
        self.chars += len(text)

    def run(self) -> FormattedText:
        source, index = self.source, 0
        while True:
            match = _SPECIAL.search(source, index)
            stop = match.start() if match else len(source)
            if stop > index:
                self.emit(source[index:stop])
            if match is None:
                break
            char = source[stop]
            if char == "<":
                index = self.tag(stop)
            elif char == "&":
                index = self.reference(stop)
            else:
                if self.strict:
                    raise self.fail('Character ">" must be escaped as "&gt;"', stop)
                self.emit(">")
                index = stop + 1
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        self.found.sort(key=lambda item: (item[0], -item[1], item[2]))
        return FormattedText("".join(self.pieces), [entity for *_, entity in self.found])

    def reference(self, index: int) -> int:
        match = _CHAR_REF.match(self.source, index)
        decoded = _decode_ref(match) if match else None
        if match is None or decoded is None:
            if self.strict:
                raise self.fail('Character "&" must be escaped as "&amp;"', index)
            self.emit("&")
            return index + 1
        self.emit(decoded)
        return match.end()

    def tag(self, index: int) -> int:
        source = self.source
        if source.startswith("</", index):
            close = source.find(">", index)
            if close < 0:
                raise self.fail("Unclosed end tag", index)
            self.close_tag(source[index + 2 : close].strip().lower(), index)
            return close + 1
        name_match = _NAME.match(source, index + 1)
        if name_match is None:
            raise self.fail("Unexpected end of name token", index)
        name = name_match.group(0).lower()
        if name not in ENTITY_TYPES:
            raise self.fail(f'Unsupported start tag "{name}"', index)
        attrs, after = self.attributes(name, name_match.end(), index)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', index)
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise self.fail('Tag "tg-emoji" must have a numeric attribute "emoji-id"', index)
        self.stack.append(_Open(name, self.length, self.chars, attrs, self.opened))
        self.opened += 1
        return after

    def attributes(self, name: str, index: int, start: int) -> tuple[dict[str, str], int]:
        source = self.source
        attrs: dict[str, str] = {}
        while True:
            index = _skip_space(source, index)
            if index >= len(source):
                raise self.fail("Unclosed start tag", start)
            if source[index] == ">":
                return attrs, index + 1
            attr = _ATTR_NAME.match(source, index)
            if attr is None:
                raise self.fail(f'Empty attribute name in the tag "{name}"', index)
            key = attr.group(0).lower()
            index = _skip_space(source, attr.end())
            if index < len(source) and source[index] == "=":
                index = _skip_space(source, index + 1)
                attrs[key], index = self.attribute_value(index, start)
            elif name == "blockquote" and key == "expandable":
                attrs[key] = ""
            else:
                raise self.fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}"',
                    index,
                )

    def attribute_value(self, index: int, start: int) -> tuple[str, int]:
        source = self.source
        if index < len(source) and source[index] in "'\"":
            end = source.find(source[index], index + 1)
            if end < 0:
                raise self.fail("Unclosed start tag", start)
            return _decode_attribute(source[index + 1 : end]), end + 1
        value = _UNQUOTED.match(source, index)
        assert value is not None  # the pattern matches the empty string
        return _decode_attribute(value.group(0)), value.end()

    def close_tag(self, name: str, index: int) -> None:
        if not self.stack:
            raise self.fail("Unexpected end tag", index)
        top = self.stack.pop()
        if name != top.tag:
            raise self.fail(
                f"Unmatched end tag at byte offset {_byte_offset(self.source, index)}, "
                f'expected "</{top.tag}>", found "</{name}>"'
            )
        parent = self.stack[-1] if self.stack else None
        if top.tag == "code" and parent is not None and parent.tag == "pre":
            language = top.attrs.get("class", "")
            if language.startswith("language-") and len(language) > len("language-"):
                parent.language = language[len("language-") :]
            return  # a code block inside pre is part of the pre entity
        length = self.length - top.start
        if length <= 0:
            return
        entity: dict[str, Any] = {
            "type": ENTITY_TYPES[top.tag],
            "offset": top.start,
            "length": length,
        }
        if top.tag == "a":
            url = top.attrs.get("href") or "".join(self.pieces)[top.start_char :]
            if not _URL_SCHEME.match(url):
                url = "http://" + url
            entity["url"] = url
        elif top.tag == "pre" and top.language:
            entity["language"] = top.language
        elif top.tag == "blockquote" and "expandable" in top.attrs:
            entity["type"] = "expandable_blockquote"
        elif top.tag == "tg-emoji":
            entity["custom_emoji_id"] = top.attrs["emoji-id"]
        self.found.append((top.start, length, top.order, entity))


def parse_html(source: str, *, strict: bool = True) -> FormattedText:
    """Parse Telegram HTML into (text, entities); raise HtmlError like Telegram would."""
    return _Parser(source, strict).run()


def trim(formatted: FormattedText) -> FormattedText:
    """Strip leading and trailing whitespace as Telegram does, shifting the entities."""
    text, entities = formatted
    stripped = text.strip(_TRIMMED)
    if stripped == text:
        return formatted
    lead = len(text) - len(text.lstrip(_TRIMMED))
    end = lead + utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            kept.append({**entity, "offset": start - lead, "length": stop - start})
    return FormattedText(stripped, kept)
