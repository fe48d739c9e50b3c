"""`loyalty-bot program check`: a readable summary of a program with a worked example."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from domain.earning import Earner, Purchase, PurchaseLine
from domain.program import Program, Promotion
from domain.program_file import load_program
from domain.program_notes import program_notes
from domain.program_reader import WEEKDAYS
from domain.promotions import is_running, local_time, promoted_earning
from messages.render import locales, render_text


def load_translated_program(path: str | Path) -> Program:
    """The program file at `path`, also refused when it lists a locale that has no messages."""
    return load_program(path, translated=locales())


def sample_purchase(program: Program, promotions: Sequence[Promotion] = ()) -> Purchase:
    """A receipt that exercises every rule: each earning category, each bonus item, a plain
    line, and a line of each category and SKU that `promotions` boost and it lacks."""
    lines = [
        PurchaseLine(f"SAMPLE-{rule.category.upper()}", rule.category, 1, Decimal("100.00"))
        for rule in program.earning.categories
        if rule.multiplier > 0
    ]
    lines.append(PurchaseLine("SAMPLE", "other", 2, Decimal("4.50")))
    lines += [
        PurchaseLine(item.sku, "other", 1, Decimal("18.00")) for item in program.earning.items
    ]
    for promotion in promotions:
        for category in promotion.categories:
            if all(line.category != category for line in lines):
                lines.append(
                    PurchaseLine(f"SAMPLE-{category.upper()}", category, 1, Decimal("100.00"))
                )
        lines += [
            PurchaseLine(sku, "other", 1, Decimal("18.00"))
            for sku in promotion.skus
            if all(line.sku != sku for line in lines)
        ]
    return Purchase(tuple(lines))


def program_summary(
    program: Program, path: str, now: datetime | None = None, at: datetime | None = None
) -> str:
    """Tiers, rewards, causes, the points of a sample receipt, the engagement rules and the
    notes on them at `now` (default: this moment), as console text. With `at` (aware), the
    sample is a receipt of that moment: with the promotions running then, and the notes
    are as of then."""
    tier = program.tiers.levels[0]
    running: list[Promotion] = []
    if at is None:
        sample = sample_purchase(program)
        earning = Earner(program.earning).earn(sample, tier)
    else:
        local = local_time(at, program.info.timezone)
        running = [p for p in program.promotions if is_running(p, local)]
        sample = sample_purchase(program, running)
        earning = promoted_earning(program, sample, tier, at)
    notes = program_notes(program, at or now or datetime.now(UTC))
    return render_text(
        "program_summary",
        p=program,
        sample=sample,
        earning=earning,
        path=path,
        notes=notes,
        weekdays=WEEKDAYS,
        when=shown_moment,
        at=None if at is None else local_time(at, program.info.timezone),
        running=running,
    )


def shown_moment(moment: datetime, end: bool = False) -> str:
    """A start, or with `end` an exclusive end, as the file would say it: a midnight is a
    date, and an end at midnight is the day before ("ends = 2026-12-31")."""
    if moment.time() != datetime.min.time():
        return f"{moment:%Y-%m-%d %H:%M}"
    return f"{moment - timedelta(days=1) if end else moment:%Y-%m-%d}"


def program_problems(problems: list[str], path: str) -> str:
    """Every problem of a refused program file, one per line."""
    return render_text("program_problems", problems=problems, path=path)
