"""Survey rules without a database: the sample, quiet hours, low scores, the figures worked
out by hand, and the [[surveys]] table of the program file."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from bot.program_report import program_summary
from domain.program import Survey
from domain.program_file import ProgramError, default_program_path, parse_program
from domain.surveys import Score, ask_at, is_low, sampled, satisfaction

QUIET = (time(21), time(9))
SURVEY = Survey(
    id="after_purchase",
    trigger="purchase",
    sample=Decimal("0.3"),
    delay_minutes=60,
    questions=("csat",),
)


def test_the_sample_is_the_same_every_time_and_near_its_share():
    first = [sampled(SURVEY, member, f"receipt:R{member}") for member in range(2000)]
    again = [sampled(SURVEY, member, f"receipt:R{member}") for member in range(2000)]
    assert first == again
    assert 500 <= sum(first) <= 700  # 30% of 2,000 is 600
    other = Survey("other", "purchase", Decimal("0.3"), 0, ("csat",))
    assert first != [sampled(other, member, f"receipt:R{member}") for member in range(2000)]


def test_a_sample_of_zero_asks_nobody_and_of_one_everybody():
    nobody = Survey("s", "purchase", Decimal(0), 0, ("csat",))
    everybody = Survey("s", "purchase", Decimal(1), 0, ("csat",))
    assert not any(sampled(nobody, m, "receipt:x") for m in range(500))
    assert all(sampled(everybody, m, "receipt:x") for m in range(500))


def test_asked_after_the_delay_outside_quiet_hours():
    at = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 10:30 in New York
    assert ask_at(at, 60, "America/New_York", QUIET) == datetime(2026, 3, 2, 16, 30, tzinfo=UTC)


def test_a_survey_due_in_quiet_hours_waits_for_their_end_on_the_members_clock():
    at = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)  # 20:30 in New York: due 21:30, quiet
    assert ask_at(at, 60, "America/New_York", QUIET) == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    after_midnight = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 01:00 in New York
    assert ask_at(after_midnight, 0, "America/New_York", QUIET) == datetime(
        2026, 3, 3, 14, 0, tzinfo=UTC
    )
    assert ask_at(at, 60, "Europe/Madrid", QUIET) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_low_scores():
    assert [s for s in range(1, 6) if is_low("csat", s)] == [1, 2]
    assert [s for s in range(1, 6) if is_low("ces", s)] == [1, 2]
    assert [s for s in range(11) if is_low("nps", s)] == [0, 1, 2, 3, 4, 5, 6]


def test_the_figures_worked_out_by_hand():
    # csat: 5, 4, 3, 1 -> 2 of 4 positive = 50.0
    # ces: 5, 5, 2 -> 2 of 3 = 66.7
    # nps: 10, 9, 8, 6, 0 -> 2 promoters (40%) - 2 detractors (40%) = 0.0
    # store "Main": nps 10, 9, 7 -> 66.7 - 0 = 66.7; csat 1 -> 0.0
    figures = satisfaction(
        {
            "csat": {5: 1, 4: 1, 3: 1, 1: 1},
            "ces": {5: 2, 2: 1},
            "nps": {10: 1, 9: 1, 8: 1, 6: 1, 0: 1},
        },
        {"Main": {"nps": {10: 1, 9: 1, 7: 1}, "csat": {1: 1}}},
    )
    assert figures.csat == Score(50.0, 4)
    assert figures.ces == Score(66.7, 3)
    assert figures.nps == Score(0.0, 5)
    main = figures.by_store["Main"]
    assert (main.csat, main.ces, main.nps) == (Score(0.0, 1), Score(None, 0), Score(66.7, 3))


def test_no_answers_no_figure():
    figures = satisfaction({})
    assert (figures.csat, figures.ces, figures.nps) == (Score(None, 0),) * 3
    assert figures.by_store == {}
    all_detractors = satisfaction({"nps": {0: 3, 6: 1}})
    assert all_detractors.nps == Score(-100.0, 4)


SURVEYS = """
[[surveys]]
id = "after_purchase"
trigger = "purchase"
sample = 0.25
delay_minutes = 30
questions = ["csat", "ces", "nps"]
comment = true
reward_points = 10

[[surveys]]
id = "after_refund"
trigger = "refund"
sample = 1
questions = ["csat"]
"""


def program_text() -> str:
    return default_program_path().read_text() + SURVEYS


def test_surveys_are_read_from_the_program_file():
    first, second = parse_program(program_text()).surveys
    assert first == Survey(
        "after_purchase", "purchase", Decimal("0.25"), 30, ("csat", "ces", "nps"), True, 10
    )
    assert second == Survey("after_refund", "refund", Decimal(1), 0, ("csat",))


def test_the_bundled_example_survey_reads_once_uncommented():
    lines = default_program_path().read_text().splitlines()
    start = lines.index("# [[surveys]]")
    example = "\n".join(line.removeprefix("# ") for line in lines[start:])
    [survey] = parse_program("\n".join(lines[:start]) + "\n" + example).surveys
    assert survey.questions == ("csat", "nps")


@pytest.mark.parametrize(
    ("wrong", "problem"),
    [
        (
            'trigger = "visit"',
            'surveys[0].trigger: must be one of purchase, refund, redemption, got "visit"',
        ),
        ("sample = 1.5", "surveys[0].sample: must be between 0 and 1, got 1.5"),
        ("delay_minutes = -1", "surveys[0].delay_minutes: must be"),
        (
            'questions = ["csat", "wow"]',
            'surveys[0].questions[1]: must be one of csat, ces, nps, got "wow"',
        ),
        ('questions = ["nps", "nps"]', 'surveys[0].questions[1]: duplicate question "nps"'),
        ("questions = []", "surveys[0].questions: must be a non-empty array"),
        ('comment = "yes"', 'surveys[0].comment: must be true or false, got "yes"'),
        ("reward_points = -5", "surveys[0].reward_points: must be"),
        ('colour = "blue"', "surveys[0].colour: unknown key"),
    ],
)
def test_a_wrong_survey_is_refused_with_its_path(wrong: str, problem: str):
    key = wrong.split(" = ")[0]
    lines = [line for line in SURVEYS.splitlines() if not line.startswith(f"{key} = ")]
    index = lines.index('id = "after_purchase"')
    text = default_program_path().read_text() + "\n".join(
        [*lines[: index + 1], wrong, *lines[index + 1 :]]
    )
    with pytest.raises(ProgramError) as refused:
        parse_program(text)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_a_duplicate_survey_id_is_refused():
    with pytest.raises(ProgramError) as refused:
        parse_program(program_text() + SURVEYS.split("\n\n")[0])
    assert 'surveys[2].id: duplicate id "after_purchase"' in refused.value.problems


def test_program_check_lists_the_surveys():
    summary = program_summary(parse_program(program_text()), "program.toml")
    assert (
        "Surprises: every day, chance 0.05, 100 points each, at most 2,000 points a day\n"
        "Survey after_purchase: after a purchase, 25% asked 30 minutes later, one survey per "
        "member in 14 days: csat, ces, nps; a comment after a low score; +10 points for "
        "answering\n"
        "Survey after_refund: after a refund, 100% asked 0 minutes later, one survey per "
        "member in 14 days: csat\n\nWorked example"
    ) in summary
    plain = program_summary(parse_program(default_program_path().read_text()), "program.toml")
    assert "Survey" not in plain
