"""Every chat template exists in every locale; rendering is escaped and strict."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from jinja2 import UndefinedError

from bot.conversation.texts import label_keys, labels, progress_bar
from domain.broadcasts import BroadcastProgress
from domain.segments import Segment
from messages.render import HERE, locales, render


def template_names(locale: str) -> set[str]:
    return {path.stem for path in (HERE / locale).glob("*.j2")}


def test_english_and_spanish_ship():
    assert locales()[0] == "en"
    assert "es" in locales()


@pytest.mark.parametrize("locale", locales())
def test_every_template_exists_in_every_locale(locale):
    assert template_names(locale) == template_names("en")


@pytest.mark.parametrize("locale", locales())
def test_every_locale_labels_every_button(locale):
    assert labels(locale).keys() == labels("en").keys()


def test_member_values_are_escaped_and_missing_variables_fail():
    assert "&lt;b&gt;" in render(
        "phone_saved", "en", phone="<b>", receipts=0, points=0, action=None
    )
    with pytest.raises(UndefinedError):
        render("phone_saved", "en")


def test_an_unknown_locale_falls_back_to_english():
    assert render("unknown", "de") == render("unknown", "en")


def test_menu_taps_map_back_from_any_locale():
    assert label_keys()["⭐ Puntos"] == label_keys()["⭐ Points"] == "menu_balance"


def test_progress_bar():
    assert progress_bar(0) == "▱" * 10
    assert progress_bar(35) == "▰▰▰▱▱▱▱▱▱▱"
    assert progress_bar(100) == "▰" * 10


@pytest.mark.parametrize("locale", locales())
def test_no_line_runs_into_the_next(locale):
    """trim_blocks drops the newline after a block tag: a line of text that ends in one and
    is followed by more text must end it with `+%}`, or the two lines print as one."""
    joined = []
    for path in sorted((HERE / locale).glob("*.j2")):
        lines = path.read_text(encoding="utf-8").split("\n")
        for number, (line, after) in enumerate(pairwise(lines), 1):
            text = re.sub(r"\{%.*?%\}", "", line).strip()
            if (
                text
                and line.rstrip().endswith("%}")
                and not line.rstrip().endswith("+%}")
                and after.strip()
            ):
                joined.append(f"{path.name}:{number}")
    assert joined == []


def test_optional_lines_keep_their_breaks():
    segment = render("broadcast_segment", "en", segment=Segment(), total=3)
    assert "everyone\nThat is <b>3</b> members now" in segment
    status = render(
        "broadcast_status",
        "en",
        id=1,
        p=BroadcastProgress(9, sent=4, pending=5),
        state="running",
        seconds_left=2,
        reason=None,
    )
    assert status.endswith("Sent 4 / 9\nAbout 2 s left.")
