"""Reading the engagement tables of issue 13: promotions, stamps, challenges, the leaderboard,
actions, round-up donations, milestone rewards and titles per locale."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import pytest

from domain.program import DonationRules, LeaderboardRules
from domain.program_file import ProgramError, default_program_path, parse_program
from domain.titles import localized

DEFAULT = default_program_path().read_text(encoding="utf-8")
# the bundled program before its engagement tables, without its commented examples (so
# that each edit below finds one occurrence)
BASE = (
    "\n".join(
        line for line in DEFAULT.split("[leaderboard]")[0].splitlines() if not line.startswith("# ")
    )
    + "\n"
)

ENGAGEMENT = """
[leaderboard]
metric = "purchases"
size = 5

[donations]
round_up_to = 5

[[promotions]]
id = "happy-hour"
title = { en = "Happy hour", es = "Hora feliz" }
starts = 2026-12-01
ends = 2026-12-31
weekdays = ["fri", "sat"]
hours = ["16:00", "18:00"]
categories = ["coffee"]
multiplier = 2
bonus = 10
announce = true

[[promotions]]
id = "prime-week"
title = "Prime week"
starts = 2026-11-01T08:00:00
ends = 2026-11-08T08:00:00
tiers = ["Prime"]
skus = ["BEANS-1KG"]
min_spend = 20.5
bonus = 25

[[stamps]]
id = "coffee-card"
title = "Coffee card"
categories = ["coffee"]
count = 6
reward = "coffee"

[[stamps]]
id = "visits"
title = "Visits"
per = "receipt"
count = 10
reward = "tote"

[[challenges]]
id = "streak4"
title = "Four weeks"
kind = "streak"
weeks = 4
days = 28
bonus = 200

[[challenges]]
id = "shoes"
title = "Shoes"
kind = "spend"
amount = 100
categories = ["shoes"]
starts = 2026-12-01T00:00:00
ends = 2026-12-31
reward = "tote"
opt_in = true

[[challenges]]
id = "explorer"
title = "Explorer"
kind = "categories"
count = 3
days = 60
bonus = 50

[[challenges]]
id = "friends"
title = "Friends"
kind = "referrals"
count = 2
days = 30
bonus = 100
reward = "coffee"

[[challenges]]
id = "regular"
title = "Regular"
kind = "purchases"
count = 5
days = 30
bonus = 75

[[actions]]
id = "channel"
title = { en = "Join our channel", es = "Únete al canal" }
kind = "telegram_channel"
channel = "@northwind"
points = 50

[[actions]]
id = "insta"
title = "Follow us"
kind = "link"
url = "https://instagram.com/northwind"
approval = true
points = 20

[[actions]]
id = "phone"
title = "Share your phone"
kind = "phone"
points = 10

[[actions]]
id = "bday"
title = "Birthday"
kind = "birthday"
reward = "coffee"
min_member_days = 30
"""

FULL = BASE + ENGAGEMENT


def edit(old: str, new: str, text: str = FULL) -> str:
    """The text with the one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def problems(text: str) -> list[str]:
    """The problems parse_program reports for `text`; fails if it accepts it."""
    with pytest.raises(ProgramError) as caught:
        parse_program(text)
    return caught.value.problems


def test_without_the_new_tables_everything_has_its_default() -> None:
    program = parse_program(BASE)
    assert (program.promotions, program.stamps, program.challenges, program.actions) == (
        (),
        (),
        (),
        (),
    )
    assert program.leaderboard == LeaderboardRules(enabled=True, metric="points", size=10)
    assert program.donations == DonationRules(round_up_to=10)
    assert all(m.reward is None for m in program.referrals.milestones)


def test_promotions_are_read() -> None:
    happy, prime = parse_program(FULL).promotions
    assert happy.title == "Happy hour"
    assert happy.titles == (("en", "Happy hour"), ("es", "Hora feliz"))
    assert (happy.starts, happy.ends) == (datetime(2026, 12, 1), datetime(2027, 1, 1))
    assert happy.weekdays == (4, 5)
    assert happy.hours == (time(16), time(18))
    assert (happy.categories, happy.multiplier, happy.bonus, happy.announce) == (
        ("coffee",),
        Decimal(2),
        10,
        True,
    )
    assert (prime.starts, prime.ends) == (datetime(2026, 11, 1, 8), datetime(2026, 11, 8, 8))
    assert (prime.tiers, prime.skus, prime.min_spend, prime.multiplier) == (
        ("Prime",),
        ("BEANS-1KG",),
        Decimal("20.5"),
        None,
    )
    assert (prime.weekdays, prime.hours, prime.announce) == ((), None, False)


def test_stamps_challenges_actions_leaderboard_donations_are_read() -> None:
    program = parse_program(FULL)
    coffee, visits = program.stamps
    assert (coffee.per, coffee.count, coffee.reward, coffee.categories) == (
        "unit",
        6,
        "coffee",
        ("coffee",),
    )
    assert (visits.per, visits.categories, visits.skus) == ("receipt", (), ())
    streak, shoes, explorer, friends, regular = program.challenges
    assert (streak.kind, streak.target, streak.days, streak.starts, streak.bonus) == (
        "streak",
        Decimal(4),
        28,
        None,
        200,
    )
    assert (shoes.target, shoes.categories, shoes.opt_in, shoes.reward, shoes.bonus) == (
        Decimal(100),
        ("shoes",),
        True,
        "tote",
        0,
    )
    assert (shoes.starts, shoes.ends, shoes.days) == (
        datetime(2026, 12, 1),
        datetime(2027, 1, 1),
        None,
    )
    assert (explorer.kind, explorer.target) == ("categories", Decimal(3))
    assert (friends.kind, friends.target, friends.reward) == ("referrals", Decimal(2), "coffee")
    assert (regular.kind, regular.target) == ("purchases", Decimal(5))
    channel, insta, phone, birthday = program.actions
    assert (channel.kind, channel.channel, channel.points) == ("telegram_channel", "@northwind", 50)
    assert (insta.url, insta.approval, insta.points) == (
        "https://instagram.com/northwind",
        True,
        20,
    )
    assert (phone.kind, phone.points) == ("phone", 10)
    assert (birthday.points, birthday.reward, birthday.min_member_days) == (0, "coffee", 30)
    assert program.leaderboard == LeaderboardRules(enabled=True, metric="purchases", size=5)
    assert program.donations.round_up_to == 5
    assert program.promotion("prime-week") is program.promotions[1]
    assert program.stamp_card("visits") is visits
    assert program.challenge("explorer") is explorer
    assert program.action("bday") is birthday
    assert program.action("nope") is None


def test_a_milestone_may_give_a_reward_besides_or_instead_of_points() -> None:
    text = edit("count = 3\nbonus = 300", 'count = 3\nbonus = 300\nreward = "coffee"', BASE)
    text = edit("count = 10\nbonus = 1500", 'count = 10\nreward = "tote"', text)
    first, second = parse_program(text).referrals.milestones
    assert (first.count, first.bonus, first.reward) == (3, 300, "coffee")
    assert (second.count, second.bonus, second.reward) == (10, 0, "tote")


def test_titles_per_locale_and_the_member_s_pick() -> None:
    text = edit('title = "Free coffee"', 'title = { es = "Café gratis", en = "Free coffee" }', BASE)
    text = edit('name = "Prime"', 'name = "Prime"\ntitle = { en = "Prime", es = "Premium" }', text)
    text = edit('name = "Insider"', 'name = "Insider"\ntitle = "Regular"', text)
    program = parse_program(text)
    coffee = program.rewards[0]
    assert coffee.title == "Free coffee"  # the program's first locale: what code saw before
    assert coffee.titles == (("en", "Free coffee"), ("es", "Café gratis"))
    assert localized(coffee.title, coffee.titles, "es") == "Café gratis"
    assert localized(coffee.title, coffee.titles, "es_MX") == "Café gratis"
    assert localized(coffee.title, coffee.titles, "pt_BR") == "Free coffee"
    prime, insider, member = (program.tiers.get(n) for n in ("Prime", "Insider", "Member"))
    assert localized(prime.name, prime.titles, "es") == "Premium"
    assert localized(insider.name, insider.titles, "es") == "Regular"
    assert localized(member.name, member.titles, "es") == "Member"
    trees = program.cause("trees")
    assert trees is not None
    assert localized(trees.title, trees.titles, "es") == "Plant trees"  # a plain string


def test_a_title_table_names_the_program_s_locales_and_gives_the_first() -> None:
    assert problems(edit('title = "Coffee card"', 'title = { es = "Tarjeta" }')) == [
        'stamps[0].title: must give the program\'s first locale "en", the one every other '
        "locale falls back to"
    ]
    assert problems(edit('title = "Coffee card"', 'title = { en = "Card", fr = "Carte" }')) == [
        "stamps[0].title.fr: not one of the program's locales (en, es)"
    ]
    assert problems(edit('title = "Coffee card"', 'title = { en = "Card", es = "" }')) == [
        'stamps[0].title.es: must be a non-empty string, got ""'
    ]
    assert problems(edit('title = "Coffee card"', "title = {}")) == [
        'stamps[0].title: must give a title per locale like { en = "...", es = "..." }'
    ]


SINGLE_PROBLEMS = [
    # promotions
    ('id = "prime-week"', 'id = "happy-hour"', 'promotions[1].id: duplicate id "happy-hour"'),
    (
        "ends = 2026-12-31\nweekdays",
        "ends = 2026-11-30\nweekdays",
        "promotions[0].ends: must be after starts (2026-11-30 is not after 2026-12-01)",
    ),
    (
        "ends = 2026-11-08T08:00:00",
        "ends = 2026-11-01T08:00:00",
        "promotions[1].ends: must be after starts (2026-11-01T08:00:00 is not after "
        "2026-11-01T08:00:00)",
    ),
    (
        "starts = 2026-12-01\n",
        'starts = "2026-12-01"\n',
        "promotions[0].starts: must be a date like 2026-12-01 or a local date-time like "
        '2026-12-01T16:00:00 (without quotes), got "2026-12-01"',
    ),
    (
        "starts = 2026-12-01\n",
        "starts = 2026-12-01T10:00:00-05:00\n",
        "promotions[0].starts: must be a local date-time without an offset (it is read in "
        "program.timezone), got 2026-12-01T10:00:00-05:00",
    ),
    (
        "starts = 2026-12-01\n",
        "starts = 1999-12-01\n",
        "promotions[0].starts: must be from 2000-01-01 to 9998-12-31, got 1999-12-01",
    ),
    ("starts = 2026-12-01\n", "", "promotions[0].starts: missing"),
    (
        'weekdays = ["fri", "sat"]',
        'weekdays = ["fri", "Sat"]',
        'promotions[0].weekdays[1]: must be one of mon, tue, wed, thu, fri, sat, sun, got "Sat"',
    ),
    (
        'weekdays = ["fri", "sat"]',
        'weekdays = ["fri", "fri"]',
        'promotions[0].weekdays[1]: duplicate weekday "fri"',
    ),
    (
        'weekdays = ["fri", "sat"]',
        "weekdays = []",
        "promotions[0].weekdays: must be a non-empty array of mon, tue, wed, thu, fri, sat, sun, "
        "got an array",
    ),
    (
        'hours = ["16:00", "18:00"]',
        'hours = ["16:00", "25:00"]',
        'promotions[0].hours[1]: must be a time "HH:MM", got "25:00"',
    ),
    (
        'hours = ["16:00", "18:00"]',
        'hours = ["16:00", "16:00"]',
        "promotions[0].hours: start and end must differ",
    ),
    (
        'categories = ["coffee"]\nmultiplier',
        'categories = ["coffee", ""]\nmultiplier',
        'promotions[0].categories[1]: must be a non-empty string, got ""',
    ),
    (
        'tiers = ["Prime"]',
        'tiers = ["Prime", "Gold"]',
        'promotions[1].tiers[1]: names no tier ("Gold"); tiers are Member, Insider, Prime',
    ),
    (
        "min_spend = 20.5",
        "min_spend = -1",
        "promotions[1].min_spend: must be between 0 and 1000000000, got -1",
    ),
    (
        "multiplier = 2\n",
        "multiplier = 1\n",
        "promotions[0].multiplier: must be greater than 1, got 1",
    ),
    (
        "multiplier = 2\n",
        "multiplier = 101\n",
        "promotions[0].multiplier: must be between 1 and 100, got 101",
    ),
    ("bonus = 25", "bonus = 0", "promotions[1].bonus: must be an integer from 1 to 1000000, got 0"),
    (
        "min_spend = 20.5\nbonus = 25",
        "min_spend = 20.5",
        "promotions[1].multiplier: missing: give a multiplier, a bonus or both",
    ),
    (
        "announce = true",
        'announce = "yes"',
        'promotions[0].announce: must be true or false, got "yes"',
    ),
    ("announce = true", "announce = true\ncolour = 1", "promotions[0].colour: unknown key"),
    # stamps
    (
        'reward = "coffee"\n\n[[stamps]]',
        'reward = "cofee"\n\n[[stamps]]',
        'stamps[0].reward: names no reward ("cofee"); rewards are coffee, tote, off10',
    ),
    ("count = 6", "count = 0", "stamps[0].count: must be an integer from 1 to 1000, got 0"),
    (
        'per = "receipt"',
        'per = "visit"',
        'stamps[1].per: must be one of unit, receipt, got "visit"',
    ),
    ('id = "visits"', 'id = "coffee-card"', 'stamps[1].id: duplicate id "coffee-card"'),
    ("count = 10\nreward", "reward", "stamps[1].count: missing"),
    # challenges
    (
        'kind = "streak"',
        'kind = "visits"',
        "challenges[0].kind: must be one of purchases, spend, categories, streak, referrals, "
        'got "visits"',
    ),
    (
        "weeks = 4\ndays = 28",
        "weeks = 4\ndays = 21",
        "challenges[0].weeks: a streak of 4 weeks needs a window of at least "
        "28 days, got days = 21",
    ),
    (
        "weeks = 4\ndays = 28",
        "weeks = 0\ndays = 28",
        "challenges[0].weeks: must be an integer from 1 to 104, got 0",
    ),
    ("weeks = 4\n", "", "challenges[0].weeks: missing"),
    ("amount = 100", "amount = 0", "challenges[1].amount: must be greater than 0, got 0"),
    (
        "count = 3\ndays = 60",
        'count = 3\ncategories = ["a", "b"]\ndays = 60',
        "challenges[2].count: must be at most the 2 categories listed, got 3",
    ),
    (
        "count = 5\ndays = 30",
        "count = 5\namount = 3\ndays = 30",
        "challenges[4].amount: unknown key",
    ),
    (
        "count = 2\ndays = 30",
        "count = 2",
        "challenges[3].days: missing: give days (a rolling window) or starts and ends",
    ),
    (
        "count = 2\ndays = 30",
        "count = 2\ndays = 30\nstarts = 2026-01-01",
        "challenges[3].days: give either days (a rolling window) or starts and ends (a fixed one), "
        "not both",
    ),
    (
        "starts = 2026-12-01T00:00:00\nends = 2026-12-31",
        "starts = 2026-12-01T00:00:00",
        "challenges[1].ends: missing",
    ),
    (
        "ends = 2026-12-31\nreward",
        "ends = 2026-11-01\nreward",
        "challenges[1].ends: must be after starts (2026-11-01 is not after 2026-12-01T00:00:00)",
    ),
    (
        "days = 30\nbonus = 100",
        "days = 0\nbonus = 100",
        "challenges[3].days: must be an integer from 1 to 3660, got 0",
    ),
    (
        'bonus = 100\nreward = "coffee"',
        'bonus = 100\nreward = "mug"',
        'challenges[3].reward: names no reward ("mug"); rewards are coffee, tote, off10',
    ),
    ("bonus = 75", "", "challenges[4].bonus: missing: give a bonus, a reward or both"),
    ("opt_in = true", "opt_in = 1", "challenges[1].opt_in: must be true or false, got 1"),
    # leaderboard and donations
    (
        'metric = "purchases"',
        'metric = "spend"',
        'leaderboard.metric: must be one of points, purchases, got "spend"',
    ),
    ("size = 5", "size = 51", "leaderboard.size: must be an integer from 1 to 50, got 51"),
    ("size = 5", "size = 5\nenabled = 0", "leaderboard.enabled: must be true or false, got 0"),
    (
        "round_up_to = 5",
        "round_up_to = 1",
        "donations.round_up_to: must be an integer from 2 to 10000, got 1",
    ),
    ("round_up_to = 5", "round_up_to = 5\ncause = 1", "donations.cause: unknown key"),
    # actions
    (
        'channel = "@northwind"',
        'channel = "northwind"',
        'actions[0].channel: must be a public channel\'s "@name" (5 to 32 letters, digits and _), '
        'got "northwind"',
    ),
    ('channel = "@northwind"\n', "", "actions[0].channel: missing"),
    (
        'url = "https://instagram.com/northwind"',
        'url = "instagram.com/northwind"',
        'actions[1].url: must be an http:// or https:// address, got "instagram.com/northwind"',
    ),
    ("approval = true\npoints = 20", "approval = true", "actions[1].points: missing"),
    ("points = 10", "points = 0", "actions[2].points: must be an integer from 1 to 1000000, got 0"),
    ("points = 10", 'points = 10\nurl = "https://x.org"', "actions[2].url: unknown key"),
    (
        'kind = "phone"',
        'kind = "email"',
        'actions[2].kind: must be one of telegram_channel, link, phone, birthday, got "email"',
    ),
    (
        'reward = "coffee"\nmin_member_days = 30',
        "min_member_days = 30",
        "actions[3].points: missing: give points, a reward or both",
    ),
    (
        "min_member_days = 30",
        "min_member_days = -1",
        "actions[3].min_member_days: must be an integer from 0 to 3660, got -1",
    ),
    ('id = "insta"', 'id = "channel"', 'actions[1].id: duplicate id "channel"'),
    # nudges and milestones
    (
        'kind = "referral_reminder"\nafter_days = 14',
        'kind = "challenge_ending"',
        "nudges.rules[4].before_days: missing",
    ),
    (
        'kind = "referral_reminder"\nafter_days = 14',
        'kind = "challenge_ending"\nbefore_days = 0',
        "nudges.rules[4].before_days: must be an integer from 1 to 365, got 0",
    ),
    ("count = 3\nbonus = 300", "count = 3", "referrals.milestones[0].bonus: missing"),
    (
        "count = 3\nbonus = 300",
        'count = 3\nreward = "mug"',
        'referrals.milestones[0].reward: names no reward ("mug"); rewards are coffee, tote, off10',
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), SINGLE_PROBLEMS)
def test_single_problem(old: str, new: str, expected: str) -> None:
    assert problems(edit(old, new)) == [expected]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '\n[[actions]]\nid = "phone2"\ntitle = "Phone"\nkind = "phone"\npoints = 5\n',
            'actions[4].kind: duplicate kind "phone"',
        ),
        (
            '\n[[actions]]\nid = "c2"\ntitle = "Channel"\nkind = "telegram_channel"\n'
            'channel = "@NorthWind"\npoints = 5\n',
            'actions[4].channel: duplicate channel "@northwind"',
        ),
        (
            '\n[[challenges]]\nid = "fixed"\ntitle = "F"\nkind = "streak"\nweeks = 3\n'
            "starts = 2026-12-02\nends = 2026-12-13\nbonus = 1\n",
            "challenges[5].weeks: a streak of 3 weeks does not fit between starts and ends "
            "(2 calendar weeks)",
        ),
    ],
)
def test_a_second_table_problem(extra: str, expected: str) -> None:
    assert problems(FULL + extra) == [expected]


def test_a_spend_challenge_needs_its_amount() -> None:
    assert problems(edit("amount = 100", "count = 100")) == [
        "challenges[1].count: unknown key",
        "challenges[1].amount: missing",
    ]


def test_a_streak_fits_the_calendar_weeks_its_fixed_window_touches() -> None:
    # Wed 2 Dec to Mon 14 Dec 2026 touches the weeks of 30 Nov, 7 Dec and 14 Dec
    extra = (
        '\n[[challenges]]\nid = "fixed"\ntitle = "F"\nkind = "streak"\nweeks = 3\n'
        "starts = 2026-12-02\nends = 2026-12-14T00:00:01\nbonus = 1\n"
    )
    assert parse_program(FULL + extra).challenges[-1].target == Decimal(3)


def test_an_unknown_kind_reads_every_parameter_without_asking_for_one() -> None:
    text = edit('kind = "streak"\nweeks = 4', 'kind = "visits"\nweeks = 4\ncount = 2')
    assert problems(text) == [
        "challenges[0].kind: must be one of purchases, spend, categories, streak, referrals, "
        'got "visits"'
    ]
    text = edit('kind = "phone"', 'kind = "sms"')
    assert problems(text) == [
        'actions[2].kind: must be one of telegram_channel, link, phone, birthday, got "sms"'
    ]


def test_the_bundled_examples_read_once_uncommented() -> None:
    """Each commented engagement example of the bundled program is valid as written."""
    lines = DEFAULT.splitlines()
    blocks, current = [], list[str]()
    for line in [*lines[: lines.index("# [[surveys]]")], ""]:
        if line.startswith("# [[") or (current and line.startswith("# ")):
            current.append(line.removeprefix("# "))
        elif current:
            blocks.append("\n".join(current))
            current = []
    tables = sorted({block.splitlines()[0] for block in blocks})
    assert tables == [
        "[[actions]]",
        "[[challenges]]",
        "[[nudges.rules]]",
        "[[promotions]]",
        "[[stamps]]",
    ]
    program = parse_program(DEFAULT + "\n" + "\n\n".join(blocks) + "\n")
    assert [p.id for p in program.promotions] == ["happy-hour"]
    assert [s.id for s in program.stamps] == ["coffee-card"]
    assert [c.id for c in program.challenges] == ["four-weeks", "winter-spend"]
    assert [a.kind for a in program.actions] == ["telegram_channel", "link", "phone", "birthday"]
    assert program.nudges.rules[-1].before_days == 3
    milestone = DEFAULT.replace(
        '# reward = "coffee"               # (optional) a reward', 'reward = "coffee"  # a reward'
    )
    assert parse_program(milestone).referrals.milestones[0].reward == "coffee"
    titled = DEFAULT.replace('# title = { en = "Member"', 'title = { en = "Member"')
    assert parse_program(titled).tiers.levels[0].titles == (("en", "Member"), ("es", "Socio"))


def test_the_bundled_program_s_new_tables_keep_their_defaults() -> None:
    program = parse_program(DEFAULT)
    assert program.leaderboard == LeaderboardRules()
    assert program.donations == DonationRules()
    assert (program.promotions, program.stamps, program.challenges, program.actions) == (
        (),
        (),
        (),
        (),
    )
