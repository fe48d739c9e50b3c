"""`loyalty-bot nudges --dry-run | --run-once [--at T]`."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.cli import main
from domain.program_file import default_program_path, load_program
from storage.database import Database
from storage.migrate import ensure_schema
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import new_member


def joined_three_weeks_ago(url: str) -> None:
    async def setup() -> None:
        database = Database(url)
        await ensure_schema(database)
        await new_member(
            SqlUnitOfWork(database),
            load_program(default_program_path()),
            5,
            now=NOW - timedelta(days=21),
        )
        await database.dispose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, setup()).result()


def test_dry_run_then_run_once(empty_database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    joined_three_weeks_ago(empty_database_url)
    at = ["--at", NOW.isoformat()]
    assert main(["nudges", "--dry-run", *at]) == 0
    out = capsys.readouterr().out
    assert ": referral_reminder, because the invite link was never shared" in out
    assert "1 member would get a nudge; nothing was queued." in out
    assert main(["nudges", "--dry-run", *at]) == 0
    assert "1 member would get a nudge" in capsys.readouterr().out
    assert main(["nudges", "--run-once", *at]) == 0
    assert "1 queued for sending" in capsys.readouterr().out
    assert main(["nudges", "--run-once", *at]) == 0
    assert "0 queued for sending" in capsys.readouterr().out
    assert main(["nudges", "--dry-run", "--at", "2026-03-12T16:00:00"]) == 0
    assert "inactive, because no purchase for 31 days" in capsys.readouterr().out


def test_a_mode_is_required(capsys):
    with pytest.raises(SystemExit):
        main(["nudges"])
    assert "one of the arguments --dry-run --run-once is required" in capsys.readouterr().err
