"""Every chat template exists in every locale; rendering is escaped and strict."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from bot.conversation.texts import label_keys, labels, progress_bar
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
    assert "&lt;b&gt;" in render("phone_saved", "en", phone="<b>", receipts=0, points=0)
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
