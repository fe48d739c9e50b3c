"""Pure rules: lot allocation, month arithmetic, tier evaluation, codes and referral payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.codes import ALPHABET, format_code, is_code, new_code, normalize_code
from domain.contact import normalize_phone
from domain.errors import InsufficientPoints, InvalidRequest
from domain.ledger import Lot, Take, add_months, allocate
from domain.program import Program
from domain.referrals import code_from_payload, local_day, next_milestone, referral_payload
from domain.tiers import TierStatus, evaluate_tier, tier_progress

T0 = datetime(2026, 1, 31, 12, tzinfo=UTC)
LOTS = [
    Lot(1, 50, T0 + timedelta(days=300)),
    Lot(2, 30, T0 + timedelta(days=10)),
    Lot(3, 20, T0 + timedelta(days=10)),
]


def test_allocation_takes_the_soonest_expiring_lots_first():
    assert allocate(LOTS, 45) == [Take(2, 30), Take(3, 15)]
    assert allocate(LOTS, 100) == [Take(2, 30), Take(3, 20), Take(1, 50)]


def test_allocation_can_prefer_one_lot_for_a_clawback():
    assert allocate(LOTS, 60, prefer_lot_id=1) == [Take(1, 50), Take(2, 10)]


def test_allocation_refuses_more_than_the_lots_hold():
    with pytest.raises(InsufficientPoints) as refused:
        allocate(LOTS, 101)
    assert refused.value.available == 100
    with pytest.raises(ValueError, match="positive"):
        allocate(LOTS, 0)


def test_add_months_clamps_to_the_end_of_month():
    assert add_months(T0, 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert add_months(T0, 12) == datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert add_months(datetime(2027, 12, 15, tzinfo=UTC), 2) == datetime(2028, 2, 15, tzinfo=UTC)


def test_tier_upgrades_at_once(program: Program):
    status = evaluate_tier(program.tiers, TierStatus("Member", None), 2500, T0)
    assert status == TierStatus("Prime", None)


def test_tier_downgrade_waits_for_the_grace_period(program: Program):
    tiers = program.tiers
    below = evaluate_tier(tiers, TierStatus("Prime", None), 600, T0)
    assert below == TierStatus("Prime", T0)
    day_29 = evaluate_tier(tiers, below, 600, T0 + timedelta(days=29))
    assert day_29 == TierStatus("Prime", T0)
    assert evaluate_tier(tiers, below, 600, T0 + timedelta(days=30)) == TierStatus("Insider", None)
    recovered = evaluate_tier(tiers, below, 2600, T0 + timedelta(days=5))
    assert recovered == TierStatus("Prime", None)


def test_tier_progress(program: Program):
    progress = tier_progress(program.tiers, "Insider", 1500)
    assert (progress.next_tier, progress.credits_needed, progress.percent) == ("Prime", 1000, 50)
    top = tier_progress(program.tiers, "Prime", 9000)
    assert (top.next_tier, top.credits_needed, top.percent) == (None, 0, 100)
    grace = tier_progress(program.tiers, "Insider", 100)  # held in grace below the threshold
    assert grace.percent == 0


def test_codes_are_unambiguous_and_forgiving_to_type():
    assert not set("01OIL") & set(ALPHABET)
    code = new_code(8)
    assert is_code(code, 8)
    assert normalize_code(f" {format_code(code).lower()} ") == code
    assert format_code("ABCDEFGH") == "ABCD-EFGH"
    assert not is_code("ABCDEFG0", 8)


def test_referral_payload_round_trip_and_shape():
    payload = referral_payload("K7M2Q9XR")
    assert payload == "r-K7M2Q9XR"
    assert code_from_payload(payload) == "K7M2Q9XR"
    assert code_from_payload("r-k7m2q9xr") == "K7M2Q9XR"
    for bad in ("", "K7M2Q9XR", "r-SHORT", "r-K7M2Q9X0", "r-" + "A" * 70, "r-K7M2 Q9XR"):
        assert code_from_payload(bad) is None


def test_local_day_uses_the_program_timezone():
    start, end = local_day(datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "America/New_York")
    assert start.astimezone(UTC) == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


def test_next_milestone(program: Program):
    rules = program.referrals
    assert next_milestone(rules, 0).count == 3
    assert next_milestone(rules, 3).count == 10
    assert next_milestone(rules, 10) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+1 (555) 000-1234", "+15550001234"),
        ("15550001234", "+15550001234"),
        ("0034 600 123 456", "+34600123456"),
    ],
)
def test_phones_are_stored_in_international_form(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["", "12", "+0123456789", "call me", "+1555000123456789"])
def test_impossible_phones_are_refused(typed):
    with pytest.raises(InvalidRequest):
        normalize_phone(typed)
