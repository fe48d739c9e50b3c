"""What `program check` points out in a valid program: not errors, but worth a second look.

Promotions that overlap (the highest multiplier applies on a line, bonuses add), that
multiply only categories earning nothing, and promotions or fixed challenges that never run
or are already over at the moment checked. (Categories cannot be checked otherwise: the
program lists only those with a multiplier.)
"""

from __future__ import annotations

from datetime import datetime
from itertools import combinations

from domain.program import Program
from domain.program_reader import show
from domain.promotions import first_overlap, local_time, next_window


def program_notes(program: Program, now: datetime) -> list[str]:
    """The notes for `program` at the aware moment `now`: each promotion's, the overlaps,
    each challenge's."""
    local = local_time(now, program.info.timezone)
    names = [f"promotions[{i}] {show(p.id)}" for i, p in enumerate(program.promotions)]
    notes = []
    for name, promotion in zip(names, program.promotions, strict=True):
        if promotion.ends <= local:
            notes.append(f"{name} is over since {promotion.ends:%Y-%m-%d %H:%M}")
        elif next_window(promotion, promotion.starts) is None:
            notes.append(f"{name} never runs: its weekdays and hours fall outside its dates")
        earning = program.earning
        if (
            promotion.multiplier is not None
            and promotion.categories
            and not promotion.skus
            and all(earning.category_multiplier(c) == 0 for c in promotion.categories)
        ):
            notes.append(
                f"{name} multiplies only categories that earn nothing "
                f"({', '.join(promotion.categories)})"
            )
    for (i, first), (j, second) in combinations(enumerate(program.promotions), 2):
        moment = first_overlap(first, second, since=local)
        if moment is not None:
            notes.append(
                f"{names[i]} and {names[j]} overlap from {moment:%Y-%m-%d %H:%M}: "
                "the higher multiplier applies on a line both boost; bonuses add"
            )
    for index, challenge in enumerate(program.challenges):
        if challenge.ends is not None and challenge.ends <= local:
            notes.append(
                f"challenges[{index}] {show(challenge.id)} is over since "
                f"{challenge.ends:%Y-%m-%d %H:%M}"
            )
    return notes
