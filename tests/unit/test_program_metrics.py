"""The optional [metrics] program table: defaults, values and refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.program import MetricsRules
from domain.program_file import ProgramError, default_program_path, parse_program

EXAMPLE = default_program_path().read_text(encoding="utf-8")
WITHOUT = EXAMPLE.split("[metrics]")[0]


def test_the_example_sets_every_key() -> None:
    metrics = parse_program(EXAMPLE).metrics
    assert metrics == MetricsRules(active_days=90, point_value=Decimal("0.01"), survey_min_days=14)


def test_absent_table_keeps_the_defaults() -> None:
    assert parse_program(WITHOUT).metrics == MetricsRules(90, Decimal(0), 14)


def test_absent_keys_keep_their_defaults() -> None:
    program = parse_program(WITHOUT + "[metrics]\nactive_days = 30\n")
    assert program.metrics == MetricsRules(30, Decimal(0), 14)


def test_bad_values_and_unknown_keys_are_each_named() -> None:
    text = WITHOUT + "[metrics]\nactive_days = 0\npoint_value = -1\nsurvey_min_days = 'x'\nz = 1\n"
    with pytest.raises(ProgramError) as refused:
        parse_program(text)
    assert refused.value.problems == [
        "metrics.active_days: must be a positive integer, got 0",
        "metrics.point_value: must be at least 0, got -1",
        'metrics.survey_min_days: must be a positive integer, got "x"',
        "metrics.z: unknown key",
    ]
