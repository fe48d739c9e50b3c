"""Round-up donations: a member who chose a cause keeps each purchase's points rounded
down to a multiple of `[donations] round_up_to`; the remainder goes to the cause."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundUp:
    """A purchase's points split between the member and their round-up cause."""

    kept: int
    donated: int


def round_up(points: int, round_up_to: int) -> RoundUp:
    """Split `points`: 37 with round_up_to 10 keeps 30 and donates 7; nothing is donated
    from zero or negative points."""
    if round_up_to < 1:
        raise ValueError("round_up_to must be positive")
    donated = points % round_up_to if points > 0 else 0
    return RoundUp(kept=points - donated, donated=donated)
