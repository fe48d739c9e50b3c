"""Telegram's HTML parse mode: accepted markup, UTF-16 offsets, and refused markup."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator import HtmlError, parse_html, utf16_len
from bot.html import trim


def ent(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length, **extra}


ACCEPTED = [
    ("plain text", "plain text", []),
    ("<b>bold</b> text", "bold text", [ent("bold", 0, 4)]),
    ("<strong>x</strong>", "x", [ent("bold", 0, 1)]),
    ("<i>x</i><em>y</em>", "xy", [ent("italic", 0, 1), ent("italic", 1, 1)]),
    ("<u>x</u><ins>y</ins>", "xy", [ent("underline", 0, 1), ent("underline", 1, 1)]),
    (
        "<s>a</s><strike>b</strike><del>c</del>",
        "abc",
        [ent("strikethrough", 0, 1), ent("strikethrough", 1, 1), ent("strikethrough", 2, 1)],
    ),
    ('<span class="tg-spoiler">x</span>', "x", [ent("spoiler", 0, 1)]),
    ("<tg-spoiler>x</tg-spoiler>", "x", [ent("spoiler", 0, 1)]),
    (
        '<a href="https://t.me/b?start=a&amp;b">go</a>',
        "go",
        [ent("text_link", 0, 2, url="https://t.me/b?start=a&b")],
    ),
    ("<a href='https://x.org'>x</a>", "x", [ent("text_link", 0, 1, url="https://x.org")]),
    ("<code>x = 1</code>", "x = 1", [ent("code", 0, 5)]),
    ("<pre>block</pre>", "block", [ent("pre", 0, 5)]),
    (
        '<pre><code class="language-python">print(1)</code></pre>',
        "print(1)",
        [ent("pre", 0, 8, language="python")],
    ),
    ("<blockquote>q</blockquote>", "q", [ent("blockquote", 0, 1)]),
    ("<blockquote expandable>q</blockquote>", "q", [ent("expandable_blockquote", 0, 1)]),
    (
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "👍",
        [ent("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")],
    ),
    ("&lt;b&gt; &amp; &quot;q&quot;", '<b> & "q"', []),
    ("&#65;&#x42;&#X43;", "ABC", []),
    ("<B>caps</B>", "caps", [ent("bold", 0, 4)]),
    ("<b>a<i>b</i></b>", "ab", [ent("bold", 0, 2), ent("italic", 1, 1)]),
    ("<i><b>ab</b></i>", "ab", [ent("italic", 0, 2), ent("bold", 0, 2)]),
    ("👍 <b>ok</b>", "👍 ok", [ent("bold", 3, 2)]),
    ("<b>👍</b>x", "👍x", [ent("bold", 0, 2)]),
    ("Привет <b>мир</b>", "Привет мир", [ent("bold", 7, 3)]),
    ("<b></b>x", "x", []),
    ("a\n<b>b</b>", "a\nb", [ent("bold", 2, 1)]),
    ("<b >x</b >", "x", [ent("bold", 0, 1)]),
]


@pytest.mark.parametrize(("source", "text", "entities"), ACCEPTED)
def test_accepted_markup(source: str, text: str, entities: list[dict[str, Any]]) -> None:
    parsed = parse_html(source)
    assert parsed.text == text
    assert parsed.entities == entities


REFUSED = [
    ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("x</b", "Unclosed end tag at byte offset 1"),
    ("a < b", "Unexpected end of name token at byte offset 2"),
    ("a <3", 'Unsupported start tag "3" at byte offset 2'),
    ("a > b", 'Character ">" must be escaped as "&gt;" at byte offset 2'),
    ("Tom & Jerry", 'Character "&" must be escaped as "&amp;" at byte offset 4'),
    ("&nbsp;", 'Character "&" must be escaped as "&amp;" at byte offset 0'),
    ("&#0;", 'Character "&" must be escaped'),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
    ("<b x>y</b>", 'Expected equal sign in declaration of an attribute of the tag "b"'),
    ('<a href="https://x.org>y', "Unclosed start tag at byte offset 0"),
    ("<b", "Unclosed start tag at byte offset 0"),
    ('<b ="x">y</b>', 'Empty attribute name in the tag "b"'),
    ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have a numeric attribute "emoji-id"'),
    ("é<p>", 'Unsupported start tag "p" at byte offset 2'),
    ("<script>alert(1)</script>", 'Unsupported start tag "script"'),
    ("<br/>", 'Unsupported start tag "br"'),
]


@pytest.mark.parametrize(("source", "message"), REFUSED)
def test_refused_markup(source: str, message: str) -> None:
    with pytest.raises(HtmlError) as refused:
        parse_html(source)
    assert message in str(refused.value)


def test_lenient_mode_keeps_stray_ampersands_and_brackets_as_telegram_does() -> None:
    parsed = parse_html("Tom & Jerry > <b>Bob</b>", strict=False)
    assert parsed.text == "Tom & Jerry > Bob"
    assert parsed.entities == [ent("bold", 14, 3)]


def test_trim_strips_whitespace_and_shifts_entities() -> None:
    trimmed = trim(parse_html("\n  <b> hi</b> <i>x</i>  \n"))
    assert trimmed.text == "hi x"
    assert trimmed.entities == [ent("bold", 0, 2), ent("italic", 3, 1)]


def test_link_without_href_uses_its_text() -> None:
    parsed = parse_html("<a>example.com</a>")
    assert parsed.entities == [ent("text_link", 0, 11, url="http://example.com")]


@pytest.mark.parametrize(("text", "length"), [("abc", 3), ("👍", 2), ("é", 1), ("a👨‍👩‍👧b", 10)])
def test_utf16_length(text: str, length: int) -> None:
    assert utf16_len(text) == length
