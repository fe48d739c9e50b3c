"""Reading program files: the bundled default and every kind of problem."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from domain.program import Program
from domain.program_file import (
    ProgramError,
    default_program_path,
    load_program,
    parse_program,
)

DEFAULT = default_program_path().read_text(encoding="utf-8")


def edit(old: str, new: str, text: str = DEFAULT) -> str:
    """The text with the one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def cut(start: str, end: str, text: str = DEFAULT) -> str:
    """The text without everything from `start` up to (not including) `end`."""
    begin = text.index(start)
    return text[:begin] + text[text.index(end, begin) :]


def problems(text: str) -> list[str]:
    """The problems parse_program reports for `text`; fails if it accepts it."""
    with pytest.raises(ProgramError) as caught:
        parse_program(text)
    return caught.value.problems


@pytest.fixture(scope="module")
def program() -> Program:
    """The bundled default program."""
    return load_program(default_program_path())


def test_default_program_info(program: Program) -> None:
    assert program.info.name == "Northwind Rewards"
    assert program.info.currency == "USD"
    assert program.info.timezone == "America/New_York"
    assert program.info.locales == ("en", "es")
    assert program.info.signup_bonus == 50


def test_default_program_earning(program: Program) -> None:
    earning = program.earning
    assert earning.points_per_unit == Decimal(1)
    assert earning.per_visit == 5
    assert earning.rounding == "floor"
    assert earning.category_multiplier("shoes") == Decimal("2.0")
    assert earning.category_multiplier("gift-cards") == Decimal(0)
    assert earning.item_points("BEANS-1KG") == 20


def test_default_program_tiers(program: Program) -> None:
    tiers = program.tiers
    assert (tiers.window_days, tiers.grace_days) == (365, 30)
    assert [t.name for t in tiers.levels] == ["Member", "Insider", "Prime"]
    assert [t.threshold for t in tiers.levels] == [0, 500, 2500]
    assert [t.multiplier for t in tiers.levels] == [Decimal("1.0"), Decimal("1.25"), Decimal("1.5")]
    assert str(tiers.get("Insider").multiplier) == "1.25"


def test_default_program_rewards_and_causes(program: Program) -> None:
    coffee, tote, off10 = program.rewards
    assert (coffee.id, coffee.cost, coffee.stock, coffee.per_member_limit) == (
        "coffee",
        150,
        1000,
        0,
    )
    assert (tote.stock, tote.per_member_limit, tote.min_tier) == (25, 1, "Insider")
    assert (off10.stock, off10.min_tier, off10.valid_days) == (None, None, 60)
    trees = program.cause("trees")
    assert trees is not None
    assert (trees.goal, trees.points_per_impact, trees.impact_unit) == (100000, 100, "tree")
    assert program.expiry.months == 12
    assert program.expiry.warn_days == 14


def test_default_program_referrals_nudges_surprise(program: Program) -> None:
    assert program.referrals.qualify_on == "first_purchase"
    assert [(m.count, m.bonus) for m in program.referrals.milestones] == [(3, 300), (10, 1500)]
    nudges = program.nudges
    assert nudges.quiet_hours == (time(21, 0), time(9, 0))
    assert nudges.min_days_between == 3
    by_kind = {rule.kind: rule for rule in nudges.rules}
    assert len(by_kind) == 5
    assert by_kind["near_next_tier"].within_percent == 10
    assert by_kind["inactive"].after_days == 30
    assert by_kind["referral_reminder"].after_days == 14
    assert by_kind["points_expiring"].within_percent is None
    assert program.surprise.probability == pytest.approx(0.05)
    assert program.surprise.daily_budget == 2000


def test_default_path_points_at_bundled_file() -> None:
    assert default_program_path().name == "default_program.toml"
    assert default_program_path().is_file()


def test_int_accepted_where_number_expected() -> None:
    program = parse_program(edit("multiplier = 2.0", "multiplier = 2"))
    assert program.earning.categories[0].multiplier == Decimal(2)
    program = parse_program(edit("probability = 0.05", "probability = 1"))
    assert program.surprise.probability == 1.0


def test_optional_arrays_default_to_empty() -> None:
    text = cut("[[causes]]", "[referrals]")
    text = cut("[[rewards]]", "[referrals]", text)
    text = cut("[[earning.categories]]", "[tiers]", text)
    text = cut("[[referrals.milestones]]", "[nudges]", text)
    text = cut("[[nudges.rules]]", "[surprise]", text)
    program = parse_program(text)
    assert program.rewards == ()
    assert program.causes == ()
    assert program.earning.categories == ()
    assert program.earning.items == ()
    assert program.referrals.milestones == ()
    assert program.nudges.rules == ()


def test_optional_reward_keys_default() -> None:
    program = parse_program(edit("stock = 1000                      # (optional)", "#"))
    coffee = program.rewards[0]
    assert (coffee.stock, coffee.per_member_limit, coffee.min_tier) == (None, 0, None)


def test_quiet_hours_may_wrap_or_not() -> None:
    program = parse_program(edit('["21:00", "09:00"]', '["13:30", "14:45"]'))
    assert program.nudges.quiet_hours == (time(13, 30), time(14, 45))


SINGLE_PROBLEMS = [
    # integers
    ("cost = 600", "cost = -5", "rewards[1].cost: must be a positive integer, got -5"),
    (
        "per_visit = 5",
        "per_visit = true",
        "earning.per_visit: must be a non-negative integer, got true",
    ),
    (
        "signup_bonus = 50",
        "signup_bonus = 50.0",
        "program.signup_bonus: must be a non-negative integer, got 50.0",
    ),
    (
        "signup_bonus = 50",
        'signup_bonus = "50"',
        'program.signup_bonus: must be a non-negative integer, got "50"',
    ),
    # numbers
    (
        "multiplier = 2.0",
        'multiplier = "x"',
        'earning.categories[0].multiplier: must be a number, got "x"',
    ),
    (
        "multiplier = 2.0",
        "multiplier = -1.5",
        "earning.categories[0].multiplier: must be at least 0, got -1.5",
    ),
    (
        "multiplier = 2.0",
        "multiplier = nan",
        "earning.categories[0].multiplier: must be a finite number, got nan",
    ),
    (
        "points_per_unit = 1",
        "points_per_unit = -1",
        "earning.points_per_unit: must be at least 0, got -1",
    ),
    (
        "tier_credits_per_unit = 1",
        "tier_credits_per_unit = false",
        "earning.tier_credits_per_unit: must be a number, got false",
    ),
    # strings and choices
    (
        'name = "Northwind Rewards"',
        'name = "  "',
        'program.name: must be a non-empty string, got "  "',
    ),
    ('title = "Free coffee"', "title = 3", "rewards[0].title: must be a non-empty string, got 3"),
    (
        'currency = "USD"',
        'currency = "usd"',
        'program.currency: must be a 3-letter uppercase code like "USD", got "usd"',
    ),
    (
        'timezone = "America/New_York"',
        'timezone = "Mars/Olympus"',
        'program.timezone: unknown time zone "Mars/Olympus"',
    ),
    (
        'timezone = "America/New_York"',
        'timezone = "../etc"',
        'program.timezone: unknown time zone "../etc"',
    ),
    (
        'rounding = "floor"',
        'rounding = "up"',
        'earning.rounding: must be one of floor, round, ceil, got "up"',
    ),
    (
        'qualify_on = "first_purchase"',
        'qualify_on = "signup"',
        'referrals.qualify_on: must be one of first_purchase, join, got "signup"',
    ),
    # locales
    (
        'locales = ["en", "es"]',
        "locales = []",
        "program.locales: must be a non-empty array of locale codes, got an array",
    ),
    (
        'locales = ["en", "es"]',
        'locales = "en"',
        'program.locales: must be a non-empty array of locale codes, got "en"',
    ),
    (
        'locales = ["en", "es"]',
        'locales = ["en", "EN-us"]',
        'program.locales[1]: must be a locale code like "en" or "pt_BR", got "EN-us"',
    ),
    (
        'locales = ["en", "es"]',
        'locales = ["pt_BR", "en", "pt_BR"]',
        'program.locales[2]: duplicate locale "pt_BR"',
    ),
    # earning lists
    (
        'category = "gift-cards"',
        'category = "shoes"',
        'earning.categories[1].category: duplicate category "shoes"',
    ),
    (
        "points = 20",
        "points = -1",
        "earning.items[0].points: must be a non-negative integer, got -1",
    ),
    (
        'sku = "BEANS-1KG"\npoints = 20',
        'sku = "BEANS-1KG"\npoints = 20\n[[earning.items]]\nsku = "BEANS-1KG"\npoints = 1',
        'earning.items[1].sku: duplicate sku "BEANS-1KG"',
    ),
    # tiers
    (
        "window_days = 365",
        "window_days = 0",
        "tiers.window_days: must be a positive integer, got 0",
    ),
    (
        "grace_days = 30",
        "grace_days = -1",
        "tiers.grace_days: must be a non-negative integer, got -1",
    ),
    (
        "threshold = 500",
        "threshold = 3000",
        "tiers.levels[2].threshold: thresholds must be strictly ascending (2500 after 3000)",
    ),
    (
        "threshold = 0",
        "threshold = 100",
        "tiers.levels[0].threshold: the first tier's threshold must be 0, got 100",
    ),
    (
        "multiplier = 1.5",
        "multiplier = 0.0",
        "tiers.levels[2].multiplier: must be greater than 0, got 0.0",
    ),
    ('name = "Prime"', 'name = "Insider"', 'tiers.levels[2].name: duplicate tier name "Insider"'),
    # expiry
    ("months = 12", "months = 0", "expiry.months: must be a positive integer, got 0"),
    (
        "warn_days = 14",
        "warn_days = -14",
        "expiry.warn_days: must be a non-negative integer, got -14",
    ),
    # rewards
    (
        'min_tier = "Insider"',
        'min_tier = "Gold"',
        'rewards[1].min_tier: names no tier ("Gold"); tiers are Member, Insider, Prime',
    ),
    ('id = "off10"', 'id = "coffee"', 'rewards[2].id: duplicate id "coffee"'),
    ("stock = 25", "stock = -1", "rewards[1].stock: must be a non-negative integer, got -1"),
    (
        "per_member_limit = 1",
        "per_member_limit = -1",
        "rewards[1].per_member_limit: must be a non-negative integer, got -1",
    ),
    (
        "valid_days = 30",
        "valid_days = 0",
        "rewards[0].valid_days: must be a positive integer, got 0",
    ),
    # causes
    ('id = "meals"', 'id = "trees"', 'causes[1].id: duplicate id "trees"'),
    ("goal = 100000", "goal = 0", "causes[0].goal: must be a positive integer, got 0"),
    (
        "points_per_impact = 50",
        "points_per_impact = 0",
        "causes[1].points_per_impact: must be a positive integer, got 0",
    ),
    (
        'impact_unit = "meal"',
        'impact_unit = ""',
        'causes[1].impact_unit: must be a non-empty string, got ""',
    ),
    # referrals
    (
        "invitee_bonus = 50",
        "invitee_bonus = -50",
        "referrals.invitee_bonus: must be a non-negative integer, got -50",
    ),
    ("daily_cap = 10", "daily_cap = 0", "referrals.daily_cap: must be a positive integer, got 0"),
    (
        "count = 10",
        "count = 3",
        "referrals.milestones[1].count: counts must be strictly ascending (3 after 3)",
    ),
    ("count = 3", "count = 0", "referrals.milestones[0].count: must be a positive integer, got 0"),
    (
        "bonus = 1500",
        "bonus = -1",
        "referrals.milestones[1].bonus: must be a non-negative integer, got -1",
    ),
    # nudges
    (
        '["21:00", "09:00"]',
        '["21:00"]',
        'nudges.quiet_hours: must be an array of two "HH:MM" times, got an array',
    ),
    (
        '["21:00", "09:00"]',
        '["21:00", "9:00"]',
        'nudges.quiet_hours[1]: must be a time "HH:MM", got "9:00"',
    ),
    (
        '["21:00", "09:00"]',
        '["24:00", "09:00"]',
        'nudges.quiet_hours[0]: must be a time "HH:MM", got "24:00"',
    ),
    ('["21:00", "09:00"]', '["09:00", "09:00"]', "nudges.quiet_hours: start and end must differ"),
    (
        "min_days_between = 3",
        "min_days_between = -3",
        "nudges.min_days_between: must be a non-negative integer, got -3",
    ),
    (
        'kind = "reward_affordable"',
        'kind = "birthday"',
        "nudges.rules[1].kind: must be one of points_expiring, reward_affordable, "
        'near_next_tier, inactive, referral_reminder, challenge_ending, got "birthday"',
    ),
    (
        'kind = "reward_affordable"',
        'kind = "points_expiring"',
        'nudges.rules[1].kind: duplicate kind "points_expiring"',
    ),
    ("within_percent = 10", "", "nudges.rules[2].within_percent: missing"),
    (
        "within_percent = 10",
        "within_percent = 101",
        "nudges.rules[2].within_percent: must be an integer from 1 to 100, got 101",
    ),
    (
        "within_percent = 10",
        "within_percent = 0",
        "nudges.rules[2].within_percent: must be an integer from 1 to 100, got 0",
    ),
    ("after_days = 30", "", "nudges.rules[3].after_days: missing"),
    (
        "after_days = 14",
        "after_days = 0",
        "nudges.rules[4].after_days: must be a positive integer, got 0",
    ),
    (
        'kind = "reward_affordable"',
        'kind = "reward_affordable"\nafter_days = 3',
        "nudges.rules[1].after_days: unknown key",
    ),
    (
        "within_percent = 10",
        "within_percent = 10\nafter_days = 3",
        "nudges.rules[2].after_days: unknown key",
    ),
    # surprise
    ("every_days = 1", "every_days = 0", "surprise.every_days: must be a positive integer, got 0"),
    (
        "probability = 0.05",
        "probability = 1.5",
        "surprise.probability: must be between 0 and 1, got 1.5",
    ),
    (
        "probability = 0.05",
        "probability = -0.1",
        "surprise.probability: must be between 0 and 1, got -0.1",
    ),
    (
        "daily_budget = 2000",
        "daily_budget = -1",
        "surprise.daily_budget: must be a non-negative integer, got -1",
    ),
    ("\nbonus = 100", "\nbonus = -100", "surprise.bonus: must be a non-negative integer, got -100"),
    (
        "eligible_min_purchases = 3",
        "eligible_min_purchases = -3",
        "surprise.eligible_min_purchases: must be a non-negative integer, got -3",
    ),
    # unknown and missing keys
    ("signup_bonus = 50", "signup_bonus = 50\nbonus = 1", "program.bonus: unknown key"),
    ('id = "off10"', 'id = "off10"\ncolor = "red"', "rewards[2].color: unknown key"),
    ("[surprise]", "[extra]\nx = 1\n\n[surprise]", "extra: unknown key"),
    ('name = "Northwind Rewards"', "", "program.name: missing"),
    ('impact_unit = "tree"', "", "causes[0].impact_unit: missing"),
]


@pytest.mark.parametrize(("old", "new", "expected"), SINGLE_PROBLEMS)
def test_single_problem(old: str, new: str, expected: str) -> None:
    assert problems(edit(old, new)) == [expected]


def test_missing_required_table() -> None:
    text = DEFAULT[: DEFAULT.index("[surprise]")]
    assert problems(text) == ["surprise: missing"]


def test_table_of_wrong_type_is_not_explored() -> None:
    text = "expiry = 12\n" + cut("[expiry]", "[[rewards]]")
    assert problems(text) == ["expiry: must be a table, got 12"]


def test_rewards_must_be_tables() -> None:
    text = "rewards = [1, 2]\n" + cut("[[rewards]]", "[[causes]]")
    assert problems(text) == [
        "rewards[0]: must be a table, got 1",
        "rewards[1]: must be a table, got 2",
    ]


def test_tier_levels_missing_or_empty() -> None:
    without = cut("[[tiers.levels]]", "[expiry]")
    without = edit('min_tier = "Insider"', "", without)
    assert problems(without) == ["tiers.levels: missing"]
    empty = edit("grace_days = 30", "grace_days = 30\nlevels = []", without)
    assert problems(empty) == ["tiers.levels: must have at least one tier"]


def test_several_problems_in_file_order() -> None:
    text = edit("signup_bonus = 50", "signup_bonus = -1\nbonus = 2")
    text = edit('name = "Northwind Rewards"', "", text)
    text = edit("cost = 600", "cost = -5", text)
    text = edit("multiplier = 2.0", 'multiplier = "x"', text)
    text = edit("probability = 0.05", "probability = 2", text)
    text = edit('id = "off10"', 'id = "coffee"', text)
    text = edit('min_tier = "Insider"', 'min_tier = "Gold"', text)
    with pytest.raises(ProgramError) as caught:
        parse_program(text)
    assert caught.value.problems == [
        "program.signup_bonus: must be a non-negative integer, got -1",
        "program.bonus: unknown key",
        "program.name: missing",
        'earning.categories[0].multiplier: must be a number, got "x"',
        "rewards[1].cost: must be a positive integer, got -5",
        'rewards[1].min_tier: names no tier ("Gold"); tiers are Member, Insider, Prime',
        'rewards[2].id: duplicate id "coffee"',
        "surprise.probability: must be between 0 and 1, got 2",
    ]
    assert str(caught.value).splitlines() == caught.value.problems


def test_syntax_error_gives_line_and_column() -> None:
    text = edit("per_visit = 5", "per_visit = = 5")
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith("invalid TOML: ")
    line = DEFAULT[: DEFAULT.index("per_visit = 5")].count("\n") + 1
    assert f"line {line}, column" in found[0]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ProgramError) as caught:
        load_program(path)
    assert caught.value.problems == [f"{path}: cannot read file: No such file or directory"]


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(DEFAULT.replace("Northwind Rewards", "Caf\u00e9").encode("latin-1"))
    with pytest.raises(ProgramError) as caught:
        load_program(str(path))
    assert caught.value.problems[0].startswith(f"{path}: cannot read file: not UTF-8")


def test_load_program_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "program.toml"
    path.write_text(edit("signup_bonus = 50", "signup_bonus = 75"), encoding="utf-8")
    assert load_program(path).info.signup_bonus == 75


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'id = "coffee"',
            'id = "Free Coffee!"',
            'rewards[0].id: must be 1 to 24 of a-z, 0-9, _ and -, got "Free Coffee!"',
        ),
        (
            'id = "trees"',
            'id = "' + "t" * 25 + '"',
            'causes[0].id: must be 1 to 24 of a-z, 0-9, _ and -, got "' + "t" * 25 + '"',
        ),
    ],
)
def test_ids_travel_in_buttons_so_they_are_short_and_plain(old, new, problem):
    with pytest.raises(ProgramError) as refused:
        parse_program(DEFAULT.replace(old, new))
    assert refused.value.problems == [problem]


def test_impact_unit_plural_is_optional() -> None:
    program = parse_program(DEFAULT)
    trees = program.cause("trees")
    assert trees is not None
    assert (trees.impact_unit, trees.impact_unit_plural) == ("tree", "trees")
    rice = parse_program(edit('impact_unit_plural = "meals"\n', "")).cause("meals")
    assert rice is not None
    assert rice.impact_unit_plural == rice.impact_unit == "meal"
    assert problems(edit('impact_unit_plural = "meals"', 'impact_unit_plural = ""')) == [
        'causes[1].impact_unit_plural: must be a non-empty string, got ""'
    ]


def test_a_locale_without_translations_is_refused() -> None:
    text = edit('locales = ["en", "es"]', 'locales = ["en", "fr", "de"]')
    assert parse_program(text).info.locales == ("en", "fr", "de")  # the domain alone cannot tell
    with pytest.raises(ProgramError) as caught:
        parse_program(text, translated=("en", "es"))
    assert caught.value.problems == [
        'program.locales: no translations for "fr", "de"; messages exist for en, es'
    ]
    assert parse_program(DEFAULT, translated=("en", "es")).info.locales == ("en", "es")
