"""The operator commands: program check, db upgrade, db check (exit codes and output)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version

import pytest
from sqlalchemy import text

from bot.cli import main, parser
from domain.program_file import default_program_path, load_program
from domain.services.members import join
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW


def in_thread(coroutine) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def test_program_check_summarises_the_bundled_program(capsys):
    assert main(["program", "check"]) == 0
    out = capsys.readouterr().out
    assert "Northwind Rewards" in out
    assert "Prime        from    2,500 credits   points x1.5" in out
    assert "= 252 points and 127 tier credits" in out
    assert "tote       Canvas tote bag" in out
    assert f"OK: {default_program_path()} is a valid program." in out


def test_program_check_lists_every_problem_and_exits_1(tmp_path, capsys):
    text_ = default_program_path().read_text()
    bad = (
        text_.replace("cost = 150", "cost = -5")
        .replace('min_tier = "Insider"', 'min_tier = "Gold"')
        .replace("signup_bonus = 50", "signup_bonus = 50\nbonus = 1")
    )
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    assert main(["program", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "(3 problems)" in err
    assert "  program.bonus: unknown key" in err
    assert "  rewards[0].cost: " in err
    assert "  rewards[1].min_tier: " in err


def test_program_check_of_a_missing_file(tmp_path, capsys):
    assert main(["program", "check", str(tmp_path / "nope.toml")]) == 1
    assert "cannot read file" in capsys.readouterr().err


def test_program_from_the_environment(tmp_path, monkeypatch, capsys):
    path = tmp_path / "mine.toml"
    path.write_text(default_program_path().read_text().replace("Northwind Rewards", "Beans"))
    monkeypatch.setenv("LOYALTY_PROGRAM", str(path))
    assert main(["program", "check"]) == 0
    assert capsys.readouterr().out.startswith("Beans by")


def test_db_upgrade_then_check_then_drift(empty_database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["db", "check"]) == 1
    assert "run `loyalty-bot db upgrade` first" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from empty to revision" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "is up to date" in capsys.readouterr().out

    async def populate_then_break() -> None:
        database = Database(empty_database_url)
        program = load_program(default_program_path())
        await join(
            SqlUnitOfWork(database),
            program,
            telegram_id=5,
            first_name="E",
            language_code="en",
            now=NOW,
        )
        async with database.writer.begin() as conn:
            await conn.execute(text("UPDATE accounts SET balance = balance + 7"))
        await database.dispose()

    in_thread(populate_then_break())
    assert main(["db", "check"]) == 1
    err = capsys.readouterr().err
    assert "balance = sum of entries [1]: expected 57, found 50" in err
    assert "balance = sum of open lots [1]: expected 57, found 50" in err


def test_db_check_passes_on_a_consistent_database(empty_database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["db", "upgrade"]) == 0

    async def populate() -> None:
        database = Database(empty_database_url)
        program = load_program(default_program_path())
        for telegram_id in (1, 2, 3):
            await join(
                SqlUnitOfWork(database),
                program,
                telegram_id=telegram_id,
                first_name="X",
                language_code="en",
                now=NOW,
            )
        await database.dispose()

    in_thread(populate())
    capsys.readouterr()
    assert main(["db", "check"]) == 0
    assert "all invariants hold" in capsys.readouterr().out


def test_unreachable_database_is_one_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert main(["db", "check"]) == 1
    err = capsys.readouterr().err
    assert "Cannot use database postgresql+asyncpg://nobody@127.0.0.1:1/none" in err


def test_a_database_that_times_out_is_named_as_such(monkeypatch, capsys):
    async def times_out(settings):
        raise TimeoutError

    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///slow.db")
    monkeypatch.setattr("bot.cli.db_check", times_out)
    assert main(["db", "check"]) == 1
    first_line = capsys.readouterr().err.splitlines()[0]
    assert first_line == "Cannot use database sqlite+aiosqlite:///slow.db: TimeoutError"


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["db", "explode"])
    assert exit_.value.code == 2


def test_maintenance_upgrades_an_empty_database_then_expires_due_points(
    empty_database_url, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["maintenance", "--at", "2026-03-02T15:30:00"]) == 0
    assert "expired 0 points in 0 lots of 0 members" in capsys.readouterr().out

    async def populate() -> None:
        database = Database(empty_database_url)
        program = load_program(default_program_path())
        for telegram_id in (1, 2):
            await join(
                SqlUnitOfWork(database),
                program,
                telegram_id=telegram_id,
                first_name="X",
                language_code="en",
                now=NOW,
            )
        await database.dispose()

    in_thread(populate())
    assert main(["maintenance", "--at", "2027-03-02T15:30:00+00:00"]) == 0
    out = capsys.readouterr().out
    assert "expired 100 points in 2 lots of 2 members" in out
    assert "0 members moved down a tier" in out
    assert main(["db", "check"]) == 0


def test_maintenance_refuses_a_broken_program(tmp_path, monkeypatch, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[program]\n")
    monkeypatch.setenv("LOYALTY_PROGRAM", str(path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert main(["maintenance"]) == 1
    assert "program.name: missing" in capsys.readouterr().err


def test_api_tokens_create_list_revoke(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/t.db")
    assert (
        main(["api-token", "create", "till-1", "--scope", "purchases", "--scope", "vouchers"]) == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("lb_")  # the secret, last, printed once
    assert 'Token "till-1" created with scopes: purchases, vouchers.' in out[0]
    assert main(["api-token", "create", "till-1"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["api-token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "till-1" in listing
    assert out[-1] not in listing
    assert main(["api-token", "revoke", "till-1"]) == 0
    assert main(["api-token", "revoke", "till-1"]) == 1
    assert main(["api-token", "list"]) == 0
    assert ", revoked" in capsys.readouterr().out


def test_audit_prints_who_did_what(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/a.db")
    assert main(["audit"]) == 0
    assert "No merchant actions recorded." in capsys.readouterr().out
    assert main(["api-token", "create", "till-9"]) == 0
    capsys.readouterr()
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "cli" in out
    assert "token_created" in out
    assert "name=till-9" in out
    assert main(["audit", "--since", "2999-01-01"]) == 0
    assert "No merchant actions recorded" in capsys.readouterr().out


def test_import_purchases_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/i.db")
    good = tmp_path / "good.csv"
    good.write_text(
        "receipt_id,member,sku,category,quantity,unit_price,occurred_at\n"
        "Q-1,+15550001111,LATTE,coffee,2,4.50,2026-11-01T10:00:00\n"
    )
    assert main(["import", "purchases", str(good)]) == 0
    assert "1 receipt held until a member shares that phone number" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("receipt_id,sku\nQ-1,LATTE\n")
    assert main(["import", "purchases", str(bad)]) == 2
    assert main(["import", "purchases", str(tmp_path / "missing.csv")]) == 2


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"loyalty-bot {version('loyalty-bot')}\n"


def test_the_command_list_names_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    for command in parser()._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
        assert f"loyalty-bot {command}" in listed


def test_chat_takes_the_name_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/chat.db")
    typed = iter(["/start"])

    def read(prompt: str) -> str:
        line = next(typed, None)
        if line is None:
            raise EOFError
        return line

    monkeypatch.setattr("builtins.input", read)
    assert main(["chat", "--name", "Zoë"]) == 0
    assert "Welcome to Northwind Rewards, Zoë!" in capsys.readouterr().out


def test_the_usual_database_url_spellings_work(empty_database_url, monkeypatch, capsys):
    plain = empty_database_url.replace("postgresql+asyncpg://", "postgres://").replace(
        "sqlite+aiosqlite://", "sqlite://"
    )
    assert "+" not in plain.split("://")[0]
    monkeypatch.setenv("DATABASE_URL", plain)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "check"]) == 0
    assert "all invariants hold" in capsys.readouterr().out
