"""Reading the engagement tables of a program file: `[[promotions]]`, `[[stamps]]`,
`[[challenges]]`, `[leaderboard]`, `[[actions]]` and `[donations]`, all optional.

Each reader records problems the way `domain.program_file` does ("path.to.key: reason");
`Known` carries what they check references against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from domain.program import (
    Action,
    ActionKind,
    Challenge,
    ChallengeKind,
    DonationRules,
    LeaderboardMetric,
    LeaderboardRules,
    Promotion,
    StampCard,
    StampPer,
)
from domain.program_reader import (
    Reader,
    check_reference,
    optional_choice,
    read_flag,
    read_moment,
    read_names,
    read_optional_hours,
    read_title,
    read_weekdays,
    show,
)

MAX_POINTS = 1_000_000  # points one rule gives at once
MAX_MULTIPLIER = 100
MAX_SPEND = 1_000_000_000
MAX_COUNT = 10_000
MAX_STAMPS = 1_000
MAX_WEEKS = 104
MAX_DAYS = 3_660
MAX_LEADERBOARD = 50
MAX_ROUND_UP = 10_000
STAMP_PERS = ("unit", "receipt")
CHALLENGE_KINDS = ("purchases", "spend", "categories", "streak", "referrals")
LEADERBOARD_METRICS = ("points", "purchases")
ACTION_KINDS = ("telegram_channel", "link", "phone", "birthday")
ONCE_KINDS = ("phone", "birthday")  # a program has at most one action of each
_CHANNEL = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]{1,2000}")


@dataclass(frozen=True)
class Known:
    """What the engagement tables may refer to: the program's locales, tier names and
    reward ids (only those read without a problem)."""

    locales: tuple[str, ...]
    tiers: tuple[str, ...]
    rewards: tuple[str, ...]


def check_unique_id(table: Reader, ids: set[str], value: str) -> None:
    """Report a duplicate `id` among the tables of one array."""
    if table.ok("id") and value in ids:
        table.report("id", f"duplicate id {show(value)}")
    ids.add(value)


def read_window(table: Reader) -> tuple[datetime | None, datetime | None]:
    """`starts` and `ends` (both required), `ends` after `starts`."""
    starts = read_moment(table, "starts")
    ends = read_moment(table, "ends", end=True)
    check_order(table, starts, ends)
    return starts, ends


def check_order(table: Reader, starts: datetime | None, ends: datetime | None) -> None:
    """`ends` must come after `starts` (an `ends` date counts to the end of its day)."""
    if starts is not None and ends is not None and ends <= starts:
        table.report(
            "ends",
            f"must be after starts ({show(table.data['ends'])} is not after "
            f"{show(table.data['starts'])})",
        )


def read_effect(table: Reader) -> tuple[Decimal | None, int]:
    """A promotion's `multiplier` (above 1) and/or `bonus`; at least one of them."""
    multiplier = None
    if "multiplier" in table.data:
        value = table.number("multiplier", 1, MAX_MULTIPLIER)
        if table.ok("multiplier") and value == 1:
            table.report("multiplier", "must be greater than 1, got 1")
        multiplier = value if table.ok("multiplier") else None
    else:
        table.take("multiplier", required=False)
    bonus = table.optional_integer("bonus", 1, MAX_POINTS) or 0
    if "multiplier" not in table.data and "bonus" not in table.data:
        table.report("multiplier", "missing: give a multiplier, a bonus or both")
    return multiplier, bonus


def read_promotions(tables: list[Reader], known: Known) -> tuple[Promotion, ...]:
    """The optional [[promotions]]: ids unique, dates ordered, tiers known."""
    promotions: list[Promotion] = []
    ids: set[str] = set()
    for table in tables:
        promotion_id = table.identifier("id")
        title, titles = read_title(table, "title", known.locales)
        starts, ends = read_window(table)
        tiers = read_names(table, "tiers", "tier")
        for index, tier in enumerate(tiers):
            if known.tiers and tier not in known.tiers:
                table.report(
                    "tiers",
                    f"names no tier ({show(tier)}); tiers are {', '.join(known.tiers)}",
                    index,
                )
        multiplier, bonus = read_effect(table)
        promotion = Promotion(
            id=promotion_id,
            title=title,
            starts=starts or datetime.min,
            ends=ends or datetime.min,
            weekdays=read_weekdays(table, "weekdays"),
            hours=read_optional_hours(table, "hours"),
            categories=read_names(table, "categories", "category"),
            skus=read_names(table, "skus", "sku"),
            tiers=tiers,
            min_spend=(
                table.number("min_spend", 0, MAX_SPEND) if "min_spend" in table.data else Decimal(0)
            ),
            multiplier=multiplier,
            bonus=bonus,
            announce=read_flag(table, "announce"),
            titles=titles,
        )
        check_unique_id(table, ids, promotion.id)
        promotions.append(promotion)
        table.finish()
    return tuple(promotions)


def read_stamps(tables: list[Reader], known: Known) -> tuple[StampCard, ...]:
    """The optional [[stamps]] cards: ids unique, the reward known."""
    cards: list[StampCard] = []
    ids: set[str] = set()
    for table in tables:
        card_id = table.identifier("id")
        title, titles = read_title(table, "title", known.locales)
        per = optional_choice(table, "per", STAMP_PERS)
        card = StampCard(
            id=card_id,
            title=title,
            categories=read_names(table, "categories", "category"),
            skus=read_names(table, "skus", "sku"),
            per=cast(StampPer, per),
            count=table.integer("count", 1, MAX_STAMPS),
            reward=table.text("reward"),
            titles=titles,
        )
        if table.ok("reward"):
            check_reference(table, "reward", card.reward, known.rewards, "reward")
        check_unique_id(table, ids, card.id)
        cards.append(card)
        table.finish()
    return tuple(cards)


def read_challenges(tables: list[Reader], known: Known) -> tuple[Challenge, ...]:
    """The optional [[challenges]]: ids unique, the kind's parameter, a fixed or rolling
    window, a bonus and/or a known reward."""
    challenges: list[Challenge] = []
    ids: set[str] = set()
    for table in tables:
        challenge_id = table.identifier("id")
        title, titles = read_title(table, "title", known.locales)
        kind = table.choice("kind", CHALLENGE_KINDS)
        target, categories = read_goal(table, kind, table.ok("kind"))
        starts, ends, days = read_challenge_window(table)
        if kind == "streak" and table.ok("weeks"):
            check_streak_fits(table, int(target), starts, ends, days)
        bonus = table.optional_integer("bonus", 1, MAX_POINTS) or 0
        reward = table.optional_text("reward")
        check_reference(table, "reward", reward, known.rewards, "reward")
        if "bonus" not in table.data and "reward" not in table.data:
            table.report("bonus", "missing: give a bonus, a reward or both")
        challenge = Challenge(
            id=challenge_id,
            title=title,
            kind=cast(ChallengeKind, kind),
            target=target,
            categories=categories,
            starts=starts,
            ends=ends,
            days=days,
            opt_in=read_flag(table, "opt_in"),
            bonus=bonus,
            reward=reward,
            titles=titles,
        )
        check_unique_id(table, ids, challenge.id)
        challenges.append(challenge)
        table.finish()
    return tuple(challenges)


def read_goal(table: Reader, kind: str, known: bool) -> tuple[Decimal, tuple[str, ...]]:
    """The parameter of the challenge's kind (`count`, `amount` or `weeks`) and its optional
    `categories`; every parameter is read, none required, when the kind itself is wrong."""
    target = Decimal(1)
    if kind in ("purchases", "categories", "referrals") or not known:
        count = table.optional_integer("count", 1, MAX_COUNT, required=known)
        target = Decimal(count or 1)
    if (kind == "spend" and known) or (not known and "amount" in table.data):
        target = table.number("amount", 0, MAX_SPEND, exclusive=True)
    if kind == "streak" or not known:
        target = Decimal(table.optional_integer("weeks", 1, MAX_WEEKS, required=known) or 1)
    categories: tuple[str, ...] = ()
    if kind in ("spend", "categories") or not known:
        categories = read_names(table, "categories", "category")
    if kind == "categories" and categories and table.ok("count") and target > len(categories):
        table.report(
            "count", f"must be at most the {len(categories)} categories listed, got {target}"
        )
    return target, categories


def read_challenge_window(table: Reader) -> tuple[datetime | None, datetime | None, int | None]:
    """Either `starts` and `ends` (a fixed window) or `days` (a rolling one), not both."""
    fixed = "starts" in table.data or "ends" in table.data
    if "days" in table.data:
        days = table.optional_integer("days", 1, MAX_DAYS)
        if fixed:
            table.report(
                "days",
                "give either days (a rolling window) or starts and ends (a fixed one), not both",
            )
        table.take("starts", required=False)
        table.take("ends", required=False)
        return None, None, days
    if not fixed:
        table.report("days", "missing: give days (a rolling window) or starts and ends")
        return None, None, None
    starts, ends = read_window(table)
    return starts, ends, None


def check_streak_fits(
    table: Reader, weeks: int, starts: datetime | None, ends: datetime | None, days: int | None
) -> None:
    """A streak of `weeks` calendar weeks (Monday to Sunday) must fit in its window."""
    if days is not None and days < 7 * weeks:
        table.report(
            "weeks",
            f"a streak of {weeks} weeks needs a window of at least "
            f"{7 * weeks} days, got days = {days}",
        )
    if starts is not None and ends is not None and ends > starts:
        first = starts.date() - timedelta(days=starts.weekday())
        last_day = (ends - timedelta(microseconds=1)).date()
        last = last_day - timedelta(days=last_day.weekday())
        touched = (last - first).days // 7 + 1
        if touched < weeks:
            table.report(
                "weeks",
                f"a streak of {weeks} weeks does not fit between starts and "
                f"ends ({touched} calendar weeks)",
            )


def read_leaderboard(root: Reader) -> LeaderboardRules:
    """The optional [leaderboard] table; every key absent keeps its default."""
    if root.take("leaderboard", required=False) is None:
        return LeaderboardRules()
    table, default = root.table("leaderboard"), LeaderboardRules()
    metric = optional_choice(table, "metric", LEADERBOARD_METRICS)
    rules = LeaderboardRules(
        enabled=read_flag(table, "enabled", default=default.enabled),
        metric=cast(LeaderboardMetric, metric),
        size=table.optional_integer("size", 1, MAX_LEADERBOARD) or default.size,
    )
    table.finish()
    return rules


def read_actions(tables: list[Reader], known: Known) -> tuple[Action, ...]:
    """The optional [[actions]]: ids unique, each kind's keys; phone and birthday once, a
    channel or a link once."""
    actions: list[Action] = []
    ids: set[str] = set()
    seen: set[str] = set()  # once-only kinds, channels and urls already used
    for table in tables:
        action = read_action(table, known)
        if table.ok("kind") and action.kind in ONCE_KINDS:
            check_once(table, "kind", f"kind {show(action.kind)}", seen)
        if action.channel is not None and table.ok("channel"):
            check_once(table, "channel", f"channel {show(action.channel.lower())}", seen)
        if action.url is not None and table.ok("url"):
            check_once(table, "url", f"url {show(action.url)}", seen)
        check_unique_id(table, ids, action.id)
        actions.append(action)
        table.finish()
    return tuple(actions)


def check_once(table: Reader, key: str, what: str, seen: set[str]) -> None:
    """Report the second action with the same once-only `what`."""
    if what in seen:
        table.report(key, f"duplicate {what}")
    seen.add(what)


def read_action(table: Reader, known: Known) -> Action:
    """One action with the keys of its kind (all of them, none required, when the kind
    itself is wrong)."""
    action_id = table.identifier("id")
    title, titles = read_title(table, "title", known.locales)
    kind = table.choice("kind", ACTION_KINDS)
    valid, birthday = table.ok("kind"), kind == "birthday"
    points = (
        table.optional_integer(
            "points", 0 if birthday else 1, MAX_POINTS, required=valid and not birthday
        )
        or 0
    )
    channel = url = reward = None
    approval, min_member_days = False, 0
    if kind == "telegram_channel" or not valid:
        channel = table.optional_text("channel", required=valid)
        if channel is not None and not _CHANNEL.fullmatch(channel):
            table.report(
                "channel",
                'must be a public channel\'s "@name" (5 to 32 letters, '
                f"digits and _), got {show(channel)}",
            )
    if kind == "link" or not valid:
        url = table.optional_text("url", required=valid)
        if url is not None and not _URL.fullmatch(url):
            table.report("url", f"must be an http:// or https:// address, got {show(url)}")
        approval = read_flag(table, "approval")
    if birthday or not valid:
        reward = table.optional_text("reward")
        check_reference(table, "reward", reward, known.rewards, "reward")
        min_member_days = table.optional_integer("min_member_days", 0, MAX_DAYS) or 0
        if birthday and "points" not in table.data and "reward" not in table.data:
            table.report("points", "missing: give points, a reward or both")
    return Action(
        id=action_id,
        title=title,
        kind=cast(ActionKind, kind),
        points=points,
        channel=channel,
        url=url,
        approval=approval,
        reward=reward,
        min_member_days=min_member_days,
        titles=titles,
    )


def read_donations(root: Reader) -> DonationRules:
    """The optional [donations] table; `round_up_to` defaults to 10."""
    if root.take("donations", required=False) is None:
        return DonationRules()
    table = root.table("donations")
    rules = DonationRules(
        round_up_to=table.optional_integer("round_up_to", 2, MAX_ROUND_UP)
        or DonationRules().round_up_to
    )
    table.finish()
    return rules
