"""A person's Telegram language picks the program locale: any case, any region, any spelling."""

from __future__ import annotations

import pytest

from domain.locales import match_locale
from domain.program_file import default_program_path, load_program
from domain.services.members import pick_locale

PROGRAM = ("en", "es")


@pytest.mark.parametrize("code", ["es", "ES", "es-419", "es_ES", "Es-Mx", " es "])
def test_spanish_in_every_spelling(code: str) -> None:
    assert match_locale(PROGRAM, code) == "es"


@pytest.mark.parametrize("code", [None, "", "de", "xx-YY", "e"])
def test_unknown_languages_get_the_programs_first_locale(code: str | None) -> None:
    assert match_locale(PROGRAM, code) == "en"
    assert match_locale(("es", "en"), code) == "es"


def test_the_closest_region_wins() -> None:
    available = ("en", "pt", "pt_BR", "es_MX")
    assert match_locale(available, "pt-br") == "pt_BR"
    assert match_locale(available, "PT-PT") == "pt"
    assert match_locale(available, "es") == "es_MX"
    assert match_locale(available, "es-AR") == "es_MX"


@pytest.mark.parametrize(
    ("code", "locale"),
    [("ES", "es"), ("es-419", "es"), ("es_ES", "es"), ("EN-gb", "en"), ("fr", "en")],
)
def test_a_joining_members_locale(code: str, locale: str) -> None:
    program = load_program(default_program_path())
    assert pick_locale(program, code) == locale
