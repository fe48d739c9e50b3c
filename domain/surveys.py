"""Satisfaction surveys: who is asked, when, what counts as a low score, and the figures.

A survey is asked after a trigger (a purchase, a refund, a redemption) to a deterministic
sample: a hash of the survey id, the member and the trigger's reference decides, so a
re-run asks the same people. The figures, from the seeds:

* `csat` = answers 4-5 / all answers x 100 ("How satisfied…", 1-5)
* `ces` = answers 4-5 / all answers x 100 ("How easy was it…", 1-5)
* `nps` = % of answers 9-10 minus % of answers 0-6 ("How likely to recommend…", 0-10)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.nudges import in_quiet_hours
from domain.program import QuestionKind, Survey

SCALES: dict[QuestionKind, tuple[int, int]] = {"csat": (1, 5), "ces": (1, 5), "nps": (0, 10)}
LOW: dict[QuestionKind, int] = {"csat": 2, "ces": 2, "nps": 6}  # this score or under is low
MAX_COMMENT = 1000  # characters of a comment kept


def scale(kind: QuestionKind) -> range:
    """The scores a question takes, lowest first."""
    lowest, highest = SCALES[kind]
    return range(lowest, highest + 1)


def is_low(kind: QuestionKind, score: int) -> bool:
    """Whether `score` is low enough to ask for a comment."""
    return score <= LOW[kind]


def sampled(survey: Survey, member_id: int, reference: str) -> bool:
    """Whether this trigger asks this member: the same answer every time it is computed."""
    digest = hashlib.sha256(f"{survey.id}|{member_id}|{reference}".encode()).digest()
    draw = Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)
    return draw < survey.sample


def ask_at(at: datetime, delay_minutes: int, timezone: str, quiet: tuple[time, time]) -> datetime:
    """When a survey triggered `at` goes out: after the delay, and outside the quiet hours
    of `timezone` (inside them it waits for their end)."""
    due = at + timedelta(minutes=delay_minutes)
    if not in_quiet_hours(due, timezone, quiet):
        return due
    local = due.astimezone(ZoneInfo(timezone))
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(due.tzinfo)


@dataclass(frozen=True)
class NewSurveySend:
    """A survey to ask: which, of whom, after what (`reference`), and when it goes out."""

    survey_id: str
    member_id: int
    trigger: str
    reference: str
    store: str | None
    created_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class SurveySend:
    """A survey asked of a member; `rewarded_at` is set once its bonus was paid."""

    id: int
    survey_id: str
    member_id: int
    store: str | None
    created_at: datetime
    rewarded_at: datetime | None


@dataclass(frozen=True)
class SurveyComment:
    """A comment left after a low score, as admins read it (the member's code only)."""

    member_code: str | None
    survey_id: str
    question: QuestionKind
    score: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Score:
    """One figure and how many answers it stands on; `value` None without answers."""

    value: float | None
    answers: int


@dataclass(frozen=True)
class Satisfaction:
    """The three figures, overall and per store (stores with no answers are left out)."""

    csat: Score
    ces: Score
    nps: Score
    by_store: dict[str, Satisfaction] = field(default_factory=dict)


Counts = Mapping[QuestionKind, Mapping[int, int]]  # question -> score -> answers


def satisfaction(counts: Counts, by_store: Mapping[str, Counts] | None = None) -> Satisfaction:
    """The figures from answer counts (per store too, when given)."""
    return Satisfaction(
        csat=_positive(counts.get("csat", {})),
        ces=_positive(counts.get("ces", {})),
        nps=_promoters(counts.get("nps", {})),
        by_store={
            store: satisfaction(store_counts)
            for store, store_counts in sorted((by_store or {}).items())
        },
    )


def satisfaction_of(rows: Iterable[tuple[str | None, str, int, int]]) -> Satisfaction:
    """The figures from answers counted by (store, question, score), as the survey
    repository's `counts` gives them; questions of other kinds are left out."""
    overall: dict[QuestionKind, dict[int, int]] = {}
    by_store: dict[str, dict[QuestionKind, dict[int, int]]] = {}
    for store, question, score, count in rows:
        if question not in SCALES:
            continue
        totals = overall.setdefault(question, {})
        totals[score] = totals.get(score, 0) + count
        if store is not None:
            by_store.setdefault(store, {}).setdefault(question, {})[score] = count
    return satisfaction(overall, by_store)


def _positive(scores: Mapping[int, int]) -> Score:
    """Answers 4-5 as a share of all answers, x 100."""
    total = sum(scores.values())
    positive = sum(n for score, n in scores.items() if score >= 4)
    return Score(round(positive * 100 / total, 1) if total else None, total)


def _promoters(scores: Mapping[int, int]) -> Score:
    """% of answers 9-10 minus % of answers 0-6."""
    total = sum(scores.values())
    if not total:
        return Score(None, 0)
    promoters = sum(n for score, n in scores.items() if score >= 9)
    detractors = sum(n for score, n in scores.items() if score <= 6)
    return Score(round((promoters - detractors) * 100 / total, 1), total)
