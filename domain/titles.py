"""Program titles in the member's language.

A program file may give a title as one string or per locale (`title = { en = "Free
coffee", es = "Café gratis" }`); the parsed object keeps the program's first locale's text
as `title` and every locale's as `titles`, first locale first. Rewards, causes, promotions,
stamp cards, challenges and actions read `localized(x.title, x.titles, locale)`; a tier,
whose `name` is its key, reads `localized(tier.name, tier.titles, locale)`.
"""

from __future__ import annotations

from domain.locales import canonical, language_of
from domain.program import Titles


def localized(title: str, titles: Titles, locale: str) -> str:
    """The title for `locale`: its own text, else its language's ('es' for 'es_MX'), else
    the program's first locale's, else `title` (a plain-string title)."""
    by_spelling = {canonical(code): text for code, text in titles}
    for candidate in (canonical(locale), language_of(locale)):
        if candidate in by_spelling:
            return by_spelling[candidate]
    return titles[0][1] if titles else title
