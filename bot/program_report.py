"""`loyalty-bot program check`: a readable summary of a program with a worked example."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from domain.earning import Earner, Purchase, PurchaseLine
from domain.program import Program
from domain.program_file import load_program
from messages.render import locales, render_text


def load_translated_program(path: str | Path) -> Program:
    """The program file at `path`, also refused when it lists a locale that has no messages."""
    return load_program(path, translated=locales())


def sample_purchase(program: Program) -> Purchase:
    """A receipt that exercises every rule: each earning category, each bonus item, a plain line."""
    lines = [PurchaseLine(f"SAMPLE-{rule.category.upper()}", rule.category, 1, Decimal("100.00"))
             for rule in program.earning.categories if rule.multiplier > 0]
    lines.append(PurchaseLine("SAMPLE", "other", 2, Decimal("4.50")))
    lines += [PurchaseLine(item.sku, "other", 1, Decimal("18.00")) for item in
              program.earning.items]
    return Purchase(tuple(lines))


def program_summary(program: Program, path: str) -> str:
    """Tiers, rewards, causes and the points of a sample receipt, as console text."""
    sample = sample_purchase(program)
    earning = Earner(program.earning).earn(sample, program.tiers.levels[0])
    return render_text("program_summary", p=program, sample=sample, earning=earning, path=path)


def program_problems(problems: list[str], path: str) -> str:
    """Every problem of a refused program file, one per line."""
    return render_text("program_problems", problems=problems, path=path)
