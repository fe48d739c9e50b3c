"""Reading a loyalty program from its TOML file.

`parse_program` turns the text of a program file into a `Program`, collecting every
problem it finds as "path.to.key: reason" (array indices 0-based) in file order, and
raises `ProgramError` with all of them. The format is documented in
`domain/default_program.toml`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from domain.program import (
    CategoryRule,
    Cause,
    EarningRules,
    ExpiryRules,
    ItemBonus,
    MetricsRules,
    Milestone,
    NudgeKind,
    NudgeRule,
    NudgeRules,
    Program,
    ProgramInfo,
    QualifyOn,
    QuestionKind,
    ReferralRules,
    Reward,
    Rounding,
    SurpriseRules,
    Survey,
    SurveyTrigger,
    Tier,
    TierRules,
    Titles,
)
from domain.program_engagement import (
    Known,
    read_actions,
    read_challenges,
    read_donations,
    read_leaderboard,
    read_promotions,
    read_stamps,
)
from domain.program_reader import (
    LOCALE,
    Problem,
    Reader,
    check_reference,
    read_flag,
    read_hours,
    read_title,
    show,
)

ROUNDINGS = ("floor", "round", "ceil")
QUALIFY_ONS = ("first_purchase", "join")
NUDGE_KINDS = (
    "points_expiring",
    "reward_affordable",
    "near_next_tier",
    "inactive",
    "referral_reminder",
    "challenge_ending",
)
SURVEY_TRIGGERS = ("purchase", "refund", "redemption")
QUESTION_KINDS = ("csat", "ces", "nps")
MAX_SURVEY_DELAY = 7 * 24 * 60  # minutes: a survey asked a week later is about nothing
MAX_SURVEY_REWARD = 1_000_000
MAX_NUDGE_DAYS = 365
_CURRENCY = re.compile(r"[A-Z]{3}")


class ProgramError(Exception):
    """A program file that cannot be used; `problems` lists every reason, in file order."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_info(table: Reader, translated: Collection[str] | None) -> ProgramInfo:
    """The [program] table."""
    info = ProgramInfo(
        name=table.text("name"),
        merchant=table.text("merchant"),
        currency=read_currency(table, "currency"),
        timezone=read_timezone(table, "timezone"),
        locales=read_locales(table, "locales", translated),
        signup_bonus=table.integer("signup_bonus", 0),
    )
    table.finish()
    return info


def read_currency(table: Reader, key: str) -> str:
    """A 3-letter uppercase currency code."""
    value = table.take(key)
    if value is None:
        return ""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        table.report(key, f'must be a 3-letter uppercase code like "USD", got {show(value)}')
        return ""
    return value


def read_timezone(table: Reader, key: str) -> str:
    """An IANA time zone name that exists on this system."""
    value = table.text(key)
    if not value:
        return ""
    try:
        ZoneInfo(value)
    except (KeyError, ValueError, OSError):
        table.report(key, f"unknown time zone {show(value)}")
        return ""
    return value


def read_locales(
    table: Reader, key: str, translated: Collection[str] | None = None
) -> tuple[str, ...]:
    """A non-empty array of unique locale codes such as "en" or "pt_BR".

    With `translated` (the locales that have messages), each one must be among them.
    """
    value = table.take(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        table.report(key, f"must be a non-empty array of locale codes, got {show(value)}")
        return ()
    locales: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not LOCALE.fullmatch(item):
            reason = f'must be a locale code like "en" or "pt_BR", got {show(item)}'
            table.report(key, reason, index)
        elif item in locales:
            table.report(key, f"duplicate locale {show(item)}", index)
        else:
            locales.append(item)
    missing = [
        show(locale) for locale in locales if translated is not None and locale not in translated
    ]
    if missing:
        table.report(
            key,
            f"no translations for {', '.join(missing)}; "
            f"messages exist for {', '.join(sorted(translated or ()))}",
        )
    return tuple(locales)


def read_earning(table: Reader) -> EarningRules:
    """The [earning] table with its categories and items."""
    earning = EarningRules(
        points_per_unit=table.number("points_per_unit", 0),
        per_visit=table.integer("per_visit", 0),
        rounding=cast(Rounding, table.choice("rounding", ROUNDINGS)),
        tier_credits_per_unit=table.number("tier_credits_per_unit", 0),
        categories=read_categories(table.tables("categories")),
        items=read_items(table.tables("items")),
    )
    table.finish()
    return earning


def read_categories(tables: list[Reader]) -> tuple[CategoryRule, ...]:
    """The [[earning.categories]] multipliers, category names unique."""
    rules: list[CategoryRule] = []
    names: set[str] = set()
    for table in tables:
        rule = CategoryRule(table.text("category"), table.number("multiplier", 0))
        if table.ok("category") and rule.category in names:
            table.report("category", f"duplicate category {show(rule.category)}")
        names.add(rule.category)
        rules.append(rule)
        table.finish()
    return tuple(rules)


def read_items(tables: list[Reader]) -> tuple[ItemBonus, ...]:
    """The [[earning.items]] flat bonuses, SKUs unique."""
    items: list[ItemBonus] = []
    skus: set[str] = set()
    for table in tables:
        item = ItemBonus(table.text("sku"), table.integer("points", 0))
        if table.ok("sku") and item.sku in skus:
            table.report("sku", f"duplicate sku {show(item.sku)}")
        skus.add(item.sku)
        items.append(item)
        table.finish()
    return tuple(items)


def read_tiers(table: Reader, locales: tuple[str, ...]) -> TierRules:
    """The [tiers] table: at least one level, from threshold 0, strictly ascending."""
    window_days = table.integer("window_days", 1)
    grace_days = table.integer("grace_days", 0)
    level_tables = table.tables("levels", required=True)
    if table.data.get("levels") == []:
        table.report("levels", "must have at least one tier")
    tiers = TierRules(window_days, grace_days, read_levels(level_tables, locales))
    table.finish()
    return tiers


def read_levels(tables: list[Reader], locales: tuple[str, ...]) -> tuple[Tier, ...]:
    """The [[tiers.levels]], names unique and thresholds strictly ascending from 0; an
    optional `title` shows the tier per locale (a plain string: the same in every locale)."""
    levels: list[Tier] = []
    names: set[str] = set()
    previous: int | None = None
    for index, table in enumerate(tables):
        tier = Tier(
            name=table.text("name"),
            threshold=table.integer("threshold", 0),
            multiplier=table.number("multiplier", 0, exclusive=True),
            titles=read_tier_titles(table, locales),
        )
        if table.ok("name") and tier.name in names:
            table.report("name", f"duplicate tier name {show(tier.name)}")
        names.add(tier.name)
        if table.ok("threshold"):
            check_threshold(table, index, tier.threshold, previous)
            previous = tier.threshold
        levels.append(tier)
        table.finish()
    return tuple(levels)


def read_tier_titles(table: Reader, locales: tuple[str, ...]) -> Titles:
    """A tier's optional `title`: per locale, or one string standing for every locale."""
    title, titles = read_title(table, "title", locales, required=False)
    if title and not titles and locales:
        return ((locales[0], title),)
    return titles


def check_threshold(table: Reader, index: int, threshold: int, previous: int | None) -> None:
    """The first threshold is 0 and each later one exceeds the one before."""
    if index == 0 and threshold != 0:
        table.report("threshold", f"the first tier's threshold must be 0, got {threshold}")
    elif previous is not None and threshold <= previous:
        reason = f"thresholds must be strictly ascending ({threshold} after {previous})"
        table.report("threshold", reason)


def read_expiry(table: Reader) -> ExpiryRules:
    """The [expiry] table."""
    expiry = ExpiryRules(months=table.integer("months", 1), warn_days=table.integer("warn_days", 0))
    table.finish()
    return expiry


def read_rewards(
    tables: list[Reader], tier_names: list[str], locales: tuple[str, ...]
) -> tuple[Reward, ...]:
    """The [[rewards]] catalogue: ids unique, min_tier naming a tier."""
    rewards: list[Reward] = []
    ids: set[str] = set()
    for table in tables:
        title, titles = read_title(table, "title", locales)
        reward = Reward(
            id=table.identifier("id"),
            title=title,
            cost=table.integer("cost", 1),
            valid_days=table.integer("valid_days", 1),
            stock=table.optional_integer("stock", 0),
            per_member_limit=table.optional_integer("per_member_limit", 0) or 0,
            min_tier=table.optional_text("min_tier"),
            titles=titles,
        )
        if table.ok("id") and reward.id in ids:
            table.report("id", f"duplicate id {show(reward.id)}")
        ids.add(reward.id)
        if reward.min_tier is not None and tier_names and reward.min_tier not in tier_names:
            reason = f"names no tier ({show(reward.min_tier)}); tiers are {', '.join(tier_names)}"
            table.report("min_tier", reason)
        rewards.append(reward)
        table.finish()
    return tuple(rewards)


def read_causes(tables: list[Reader], locales: tuple[str, ...]) -> tuple[Cause, ...]:
    """The [[causes]] members donate to, ids unique."""
    causes: list[Cause] = []
    ids: set[str] = set()
    for table in tables:
        title, titles = read_title(table, "title", locales)
        unit = table.text("impact_unit")
        cause = Cause(
            id=table.identifier("id"),
            title=title,
            goal=table.integer("goal", 1),
            points_per_impact=table.integer("points_per_impact", 1),
            impact_unit=unit,
            # absent: the unit reads the same whatever the count ("kg of rice")
            impact_unit_plural=table.optional_text("impact_unit_plural") or unit,
            titles=titles,
        )
        if table.ok("id") and cause.id in ids:
            table.report("id", f"duplicate id {show(cause.id)}")
        ids.add(cause.id)
        causes.append(cause)
        table.finish()
    return tuple(causes)


def read_referrals(table: Reader, reward_ids: list[str]) -> ReferralRules:
    """The [referrals] table with its milestones."""
    referrals = ReferralRules(
        invitee_bonus=table.integer("invitee_bonus", 0),
        referrer_bonus=table.integer("referrer_bonus", 0),
        qualify_on=cast(QualifyOn, table.choice("qualify_on", QUALIFY_ONS)),
        daily_cap=table.integer("daily_cap", 1),
        milestones=read_milestones(table.tables("milestones"), reward_ids),
    )
    table.finish()
    return referrals


def read_milestones(tables: list[Reader], reward_ids: list[str]) -> tuple[Milestone, ...]:
    """The [[referrals.milestones]], counts strictly ascending, each with a `bonus`, a
    `reward` voucher or both."""
    milestones: list[Milestone] = []
    previous: int | None = None
    for table in tables:
        count = table.integer("count", 1)
        reward = table.optional_text("reward")
        check_reference(table, "reward", reward, reward_ids, "reward")
        bonus = table.optional_integer("bonus", 0, required="reward" not in table.data)
        milestone = Milestone(count=count, bonus=bonus or 0, reward=reward)
        if table.ok("count"):
            if previous is not None and milestone.count <= previous:
                reason = f"counts must be strictly ascending ({milestone.count} after {previous})"
                table.report("count", reason)
            previous = milestone.count
        milestones.append(milestone)
        table.finish()
    return tuple(milestones)


def read_nudges(table: Reader) -> NudgeRules:
    """The [nudges] table with its rules."""
    nudges = NudgeRules(
        quiet_hours=read_hours(table, "quiet_hours"),
        min_days_between=table.integer("min_days_between", 0),
        rules=read_nudge_rules(table.tables("rules")),
    )
    table.finish()
    return nudges


def read_nudge_rules(tables: list[Reader]) -> tuple[NudgeRule, ...]:
    """The [[nudges.rules]]: each kind once, with exactly the parameter it needs."""
    rules: list[NudgeRule] = []
    kinds: set[str] = set()
    for table in tables:
        kind = table.choice("kind", NUDGE_KINDS)
        known = table.ok("kind")
        if known and kind in kinds:
            table.report("kind", f"duplicate kind {show(kind)}")
        if known:
            kinds.add(kind)
        within_percent = after_days = before_days = None
        if kind == "near_next_tier" or not known:
            within_percent = table.optional_integer("within_percent", 1, 100, required=known)
        if kind in ("inactive", "referral_reminder") or not known:
            after_days = table.optional_integer("after_days", 1, required=known)
        if kind == "challenge_ending" or not known:
            before_days = table.optional_integer("before_days", 1, MAX_NUDGE_DAYS, required=known)
        rules.append(NudgeRule(cast(NudgeKind, kind), within_percent, after_days, before_days))
        table.finish()
    return tuple(rules)


def read_surprise(table: Reader) -> SurpriseRules:
    """The [surprise] table."""
    surprise = SurpriseRules(
        every_days=table.integer("every_days", 1),
        probability=float(table.number("probability", 0, maximum=1)),
        daily_budget=table.integer("daily_budget", 0),
        bonus=table.integer("bonus", 0),
        eligible_min_purchases=table.integer("eligible_min_purchases", 0),
    )
    table.finish()
    return surprise


def read_metrics(root: Reader) -> MetricsRules:
    """The optional [metrics] table; every key absent keeps its default."""
    if root.take("metrics", required=False) is None:
        return MetricsRules()
    table, default = root.table("metrics"), MetricsRules()
    point_value = table.number("point_value", 0) if "point_value" in table.data else None
    metrics = MetricsRules(
        active_days=table.optional_integer("active_days", 1) or default.active_days,
        point_value=default.point_value if point_value is None else point_value,
        survey_min_days=table.optional_integer("survey_min_days", 1) or default.survey_min_days,
    )
    table.finish()
    return metrics


def read_surveys(tables: list[Reader]) -> tuple[Survey, ...]:
    """The optional [[surveys]]: ids unique, questions known and each asked once."""
    surveys: list[Survey] = []
    ids: set[str] = set()
    for table in tables:
        survey = Survey(
            id=table.identifier("id"),
            trigger=cast(SurveyTrigger, table.choice("trigger", SURVEY_TRIGGERS)),
            sample=table.number("sample", 0, 1),
            delay_minutes=table.optional_integer("delay_minutes", 0, MAX_SURVEY_DELAY) or 0,
            questions=read_questions(table, "questions"),
            comment=read_flag(table, "comment"),
            reward_points=table.optional_integer("reward_points", 0, MAX_SURVEY_REWARD) or 0,
        )
        if table.ok("id") and survey.id in ids:
            table.report("id", f"duplicate id {show(survey.id)}")
        ids.add(survey.id)
        surveys.append(survey)
        table.finish()
    return tuple(surveys)


def read_questions(table: Reader, key: str) -> tuple[QuestionKind, ...]:
    """A non-empty array of question kinds, each at most once."""
    value = table.take(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        table.report(
            key, f"must be a non-empty array of {', '.join(QUESTION_KINDS)}, got {show(value)}"
        )
        return ()
    questions: list[QuestionKind] = []
    for index, item in enumerate(value):
        if item not in QUESTION_KINDS:
            table.report(
                key, f"must be one of {', '.join(QUESTION_KINDS)}, got {show(item)}", index
            )
        elif item in questions:
            table.report(key, f"duplicate question {show(item)}", index)
        else:
            questions.append(cast(QuestionKind, item))
    return tuple(questions)


def read_program(root: Reader, translated: Collection[str] | None = None) -> Program:
    """The whole file; meaningful only when `root` recorded no problem."""
    info = read_info(root.table("program"), translated)
    locales = info.locales
    earning = read_earning(root.table("earning"))
    tiers = read_tiers(root.table("tiers"), locales)
    tier_names = [tier.name for tier in tiers.levels if tier.name]
    rewards = read_rewards(root.tables("rewards"), tier_names, locales)
    known = Known(locales, tuple(tier_names), tuple(r.id for r in rewards if r.id))
    program = Program(
        info=info,
        earning=earning,
        tiers=tiers,
        expiry=read_expiry(root.table("expiry")),
        rewards=rewards,
        causes=read_causes(root.tables("causes"), locales),
        referrals=read_referrals(root.table("referrals"), list(known.rewards)),
        nudges=read_nudges(root.table("nudges")),
        surprise=read_surprise(root.table("surprise")),
        metrics=read_metrics(root),
        surveys=read_surveys(root.tables("surveys")),
        promotions=read_promotions(root.tables("promotions"), known),
        stamps=read_stamps(root.tables("stamps"), known),
        challenges=read_challenges(root.tables("challenges"), known),
        leaderboard=read_leaderboard(root),
        actions=read_actions(root.tables("actions"), known),
        donations=read_donations(root),
    )
    root.finish()
    return program


def parse_program(text: str, translated: Collection[str] | None = None) -> Program:
    """The program described by the TOML `text`; ProgramError lists every problem.

    `translated` names the locales that have messages; when given, `program.locales` may
    list no other (the domain cannot know which translations ship, so the caller says).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProgramError([f"invalid TOML: {error}"]) from None
    problems: list[Problem] = []
    program = read_program(Reader(data, "", (), problems), translated)
    if problems:
        problems.sort(key=lambda problem: problem[0])
        raise ProgramError([message for _, message in problems])
    return program


def load_program(path: str | Path, translated: Collection[str] | None = None) -> Program:
    """The program in the UTF-8 file at `path`; ProgramError when unreadable or invalid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ProgramError([f"{path}: cannot read file: {error.strerror or error}"]) from None
    except UnicodeDecodeError as error:
        raise ProgramError([f"{path}: cannot read file: not UTF-8 ({error.reason})"]) from None
    return parse_program(text, translated)


def default_program_path() -> Path:
    """The program file bundled with the package."""
    return Path(__file__).parent / "default_program.toml"
