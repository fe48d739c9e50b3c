"""Which of the program's locales fits a person's language as Telegram reports it.

Telegram sends IETF tags in any case ("es", "ES", "es-419", "pt-br"); program files name
locales the Babel way ("es", "pt_BR"). Both are compared in one spelling.
"""

from __future__ import annotations

from collections.abc import Sequence


def canonical(tag: str) -> str:
    """A locale tag in one spelling for comparing: lower case, parts joined by '_'."""
    return tag.strip().replace("-", "_").lower()


def language_of(tag: str) -> str:
    """The language part of a tag: 'es' for 'es-419'."""
    return canonical(tag).split("_")[0]


def match_locale(available: Sequence[str], language_code: str | None) -> str:
    """The locale of `available` closest to `language_code`; the first one when none fits.

    Exact matches win ('pt-br' -> 'pt_BR'), then the bare language ('es-419' -> 'es'),
    then any locale of the same language ('es' -> 'es_MX').
    """
    if language_code and language_code.strip():
        by_spelling = {canonical(locale): locale for locale in available}
        wanted, language = canonical(language_code), language_of(language_code)
        for candidate in (wanted, language):
            if candidate in by_spelling:
                return by_spelling[candidate]
        for locale in available:
            if language_of(locale) == language:
                return locale
    return available[0]
