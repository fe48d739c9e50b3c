"""The web pages' words: every macro in every locale, counts read right, and a locale the
program lacks falls back to English."""

from __future__ import annotations

import pytest

from bot.web.site import page_environment
from messages.render import HERE, locales
from tests.unit.test_template_wording import COUNTS, wrong_forms

GROUPS = sorted(path.stem for path in (HERE / "en" / "web").glob("*.j2"))


def macros(locale: str, group: str) -> dict[str, object]:
    module = page_environment(locale).get_template(f"web/{group}.j2").module
    return {name: getattr(module, name) for name in dir(module) if not name.startswith("_")}


@pytest.mark.parametrize("locale", locales())
@pytest.mark.parametrize("group", GROUPS)
def test_every_locale_has_every_web_text(locale: str, group: str):
    assert (HERE / locale / "web" / f"{group}.j2").exists()
    assert macros(locale, group).keys() == macros("en", group).keys()


COUNTED = {
    "card_hint": lambda n: (n,),
    "to_next_tier": lambda n: (n, "Prime"),
    "expiring": lambda n: (n, "Jan 3, 2027"),
    "next_reward": lambda n: ("Free coffee", n),
    "you_have": lambda n: (n,),
    "cost": lambda n: (n,),
    "points_to_go": lambda n: (n,),
    "confirm_redeem": lambda n: ("Free coffee", n, n, n),
    "cause_progress": lambda n: (40, n, n, n, "tree" if n == 1 else "trees"),
    "stamps_of": lambda n: (n, n),
}


@pytest.mark.parametrize("locale", locales())
@pytest.mark.parametrize("n", COUNTS)
def test_member_app_counts_read_right(locale: str, n: int):
    texts = macros(locale, "member")
    for name, args in COUNTED.items():
        text = str(texts[name](*args(n)))  # type: ignore[operator]
        assert wrong_forms(text, locale) == [], (name, text)


def test_plural_forms_in_both_languages():
    en, es = macros("en", "member"), macros("es", "member")
    assert str(en["you_have"](1)) == "You have <strong data-balance>1</strong> point."  # type: ignore[operator]
    assert "faltan 5 puntos" in str(es["points_to_go"](5))  # type: ignore[operator]
    assert "falta 1 punto" in str(es["points_to_go"](1))  # type: ignore[operator]


def test_an_unknown_locale_reads_english():
    assert str(macros("de", "member")["redeem"]()) == "Redeem"  # type: ignore[operator]
