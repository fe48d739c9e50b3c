"""`loyalty-bot`: the command line for operators.

    loyalty-bot program check [FILE] [--at T]   validate a program file and summarise it
                                       (with --at, the sample receipt at T: promotions then)
    loyalty-bot program simulate NEW.toml [--since DATE] [--until DATE]
                                       replay the period's receipts under NEW.toml, side by side
    loyalty-bot db upgrade             create or migrate the database schema
    loyalty-bot db check               verify the ledger invariants on a live database
    loyalty-bot maintenance [--at T]   expire due points and apply due tier downgrades
    loyalty-bot nudges --dry-run | --run-once [--at T]   preview or queue the due nudges
    loyalty-bot run [--workers N]      run the Telegram bot (long polling, or a webhook
                                       served by N processes on PostgreSQL)
    loyalty-bot demo                   the bot on a local Telegram emulator, playing a story
    loyalty-bot chat [--admin] [--name NAME]   talk to the bot as a customer (or admin)
    loyalty-bot emulator [--port N] [--host H]   a local Telegram Bot API to run the bot on
    loyalty-bot api-token create NAME [--scope S ...] | list | revoke NAME
    loyalty-bot audit [--since T]      who did what, when: every merchant action
    loyalty-bot import purchases FILE  record a till's CSV export of receipts, once each
    loyalty-bot report [--since DATE] [--until DATE] [--format table|json|csv] [--charts DIR]
                                       the program's figures for a period (docs/metrics.md)
    loyalty-bot --version              the installed version

Exit codes: 0 done; 1 the command failed (a broken program file, a database that cannot be
reached, invariants that do not hold); 2 a setting or argument to fix, named in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError

from bot.app import cannot_listen, open_database, run_bot
from bot.importer import import_command
from bot.logs import setup_logging
from bot.nudges import nudges_command
from bot.program_report import load_translated_program, program_problems, program_summary
from bot.report import FORMATS, report_command
from bot.settings import Settings, SettingsError, load_settings, require_bot_settings
from bot.simulate import simulate_command
from bot.workers import (
    WorkerRefused,
    label_log_lines,
    serve_as_worker,
    supervise,
    this_worker,
    workers_problem,
)
from domain.errors import LoyaltyError
from domain.program_file import ProgramError, default_program_path, load_program
from domain.services.api_tokens import SCOPES, create_token, list_tokens, revoke_token
from domain.services.audit import audit_log
from domain.services.points import expire_due_points
from domain.services.tiering import review_tiers
from messages.render import render_text
from storage.checks import check_invariants
from storage.database import Database, UnwritableDatabase
from storage.migrate import current_revision, upgrade
from storage.uow import SqlUnitOfWork

log = logging.getLogger("bot.cli")  # by name: workers run this module as __main__
EMULATOR_PORT = 8090
EMULATOR_TOKEN = "123456:LOCAL-EMULATOR-TOKEN"  # the one token `loyalty-bot emulator` accepts
EMULATOR_BOT = "loyalty_emulator_bot"
CHAT_NAME = "You"
MAX_JOBS = 64  # `program simulate --jobs` at most


def program_check(path: Path | None, settings: Settings, at: datetime | None = None) -> int:
    """Print the program's summary (exit 0) or every problem in it (exit 1); with `at`
    (naive: program time), the worked example is a receipt of that moment."""
    path = path or settings.loyalty_program or default_program_path()
    try:
        program = load_translated_program(path)
    except SettingsError as error:
        print(render_text("bad_setting", error=error), file=sys.stderr)
        return 2
    except ProgramError as error:
        print(program_problems(error.problems, str(path)), file=sys.stderr)
        return 1
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(program.info.timezone))
    print(program_summary(program, str(path), at=at))
    return 0


async def db_upgrade(settings: Settings) -> int:
    """Bring the schema to the newest migration."""
    database = Database(settings.database_url)
    try:
        await database.check_writable()
        before = await current_revision(database)
        await upgrade(database)
        after = await current_revision(database)
    finally:
        await database.dispose()
    print(
        render_text("db_upgraded", url=_safe_url(settings.database_url), before=before, after=after)
    )
    return 0


async def db_check(settings: Settings) -> int:
    """Verify the invariants; exit 0 only when every one holds."""
    database = Database(settings.database_url)
    try:
        if await current_revision(database) is None:
            print(
                render_text("db_not_ready", url=_safe_url(settings.database_url)), file=sys.stderr
            )
            return 1
        drifts = await check_invariants(database)
    finally:
        await database.dispose()
    print(
        render_text("db_check", url=_safe_url(settings.database_url), drifts=drifts),
        file=sys.stderr if drifts else sys.stdout,
    )
    return 1 if drifts else 0


async def maintenance(settings: Settings, at: datetime | None) -> int:
    """Run the daily jobs once: expire due lots, then downgrade members whose grace ended."""
    program = load_program(settings.loyalty_program or default_program_path())
    now = at or datetime.now(UTC)
    database = await open_database(settings)
    try:
        uow = SqlUnitOfWork(database)
        expired = await expire_due_points(uow, now)
        downgraded = await review_tiers(uow, program, now)
    finally:
        await database.dispose()
    print(render_text("maintenance", now=now, expired=expired, downgraded=downgraded))
    return 0


def run(settings: Settings, workers: int = 1) -> int:
    """The bot in the foreground until Ctrl+C or SIGTERM, which both stop it in order: in
    this process, or in `workers` processes started and watched by this one (bot.workers)."""
    token = require_bot_settings(settings)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    setup_logging(settings.log_level, [token, secret])
    worker = this_worker()
    if worker is not None:
        label_log_lines(worker)
        work = serve_as_worker(settings, worker)
    elif workers > 1:
        work = supervise(settings, workers)
    else:
        work = run_bot(settings)
    try:
        with suppress(KeyboardInterrupt, asyncio.CancelledError):
            asyncio.run(until_stopped(work))
    except WorkerRefused as refused:
        log.error("supervisor: %s", refused)
        return 2
    log.info("stopped")
    return 0


async def until_stopped(work: Coroutine[Any, Any, None]) -> None:
    """Run `work`; SIGTERM cancels it as Ctrl+C does (asyncio.run cancels the main task on
    Ctrl+C), so systemd or a container runtime stops it the same orderly way."""
    main_task = asyncio.current_task()
    assert main_task is not None
    loop = asyncio.get_running_loop()

    def on_sigterm() -> None:
        if not main_task.cancelling():  # a second SIGTERM does not cut the stop short
            log.info("SIGTERM received: stopping")
            main_task.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        await work
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def serve_emulator(host: str, port: int, token: str) -> None:
    """The local Bot API emulator on host:port for `token`, until cancelled."""
    from bot.emulator import Emulator  # only for this command, like the demo and the chat

    server = Emulator(
        token=token, bot_username=EMULATOR_BOT, host=host, port=port, record_calls=False
    )
    try:
        await server.start()
    except OSError as error:
        await server.close()
        raise cannot_listen("--port", host, port, error) from None
    try:
        print(render_text("emulator_ready", base_url=server.base_url, token=token), flush=True)
        await asyncio.Event().wait()
    finally:
        await server.close()
        print(render_text("emulator_stopped"), flush=True)


def emulator(host: str, port: int, token: str) -> int:
    """The emulator in the foreground until Ctrl+C or SIGTERM."""
    with suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(until_stopped(serve_emulator(host, port, token)))
    return 0


async def api_token(settings: Settings, args: argparse.Namespace) -> int:
    """Create (the secret printed once, as the last line), list or revoke API tokens."""
    database = await open_database(settings)
    uow, now = SqlUnitOfWork(database), datetime.now(UTC)
    try:
        if args.action == "create":
            scopes = frozenset(args.scopes or ["purchases"])
            secret, token = await create_token(uow, args.name, scopes, now)
            print(render_text("api_token_created", token=token, secret=secret))
        elif args.action == "list":
            print(render_text("api_token_list", tokens=await list_tokens(uow)))
        else:
            await revoke_token(uow, args.name, now)
            print(render_text("api_token_revoked", name=args.name))
    except LoyaltyError as refused:
        print(render_text("api_token_refused", reason=refused), file=sys.stderr)
        return 1
    finally:
        await database.dispose()
    return 0


async def print_audit(settings: Settings, since: datetime | None) -> int:
    """Print the audit log, oldest first."""
    database = await open_database(settings)
    try:
        entries = await audit_log(SqlUnitOfWork(database, read_only=True), since)
    finally:
        await database.dispose()
    print(render_text("audit", entries=entries))
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"


def parser() -> argparse.ArgumentParser:
    """The command tree."""
    root = argparse.ArgumentParser(
        prog="loyalty-bot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"loyalty-bot {_version()}")
    commands = root.add_subparsers(dest="command", required=True)
    program = commands.add_parser("program", help="loyalty program files")
    program_commands = program.add_subparsers(dest="action", required=True)
    check = program_commands.add_parser("check", help="validate and summarise a program file")
    check.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="program file (default: LOYALTY_PROGRAM or the bundled example)",
    )
    check.add_argument(
        "--at",
        type=datetime.fromisoformat,
        default=None,
        help="work the sample receipt at this ISO 8601 moment, with the promotions running "
        "then (without an offset: the program's time zone)",
    )
    simulation = program_commands.add_parser(
        "simulate", help="what a new program would have given over past receipts"
    )
    simulation.add_argument("file", type=Path, help="the new program file")
    simulation.add_argument("--since", help="first day, YYYY-MM-DD (default: 365 days ago)")
    simulation.add_argument("--until", help="day after the last, YYYY-MM-DD (default: today)")
    simulation.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        help="processes replaying receipts (default: one per core, at most 4)",
    )
    db = commands.add_parser("db", help="the database")
    db_commands = db.add_subparsers(dest="action", required=True)
    db_commands.add_parser("upgrade", help="create or migrate the schema")
    db_commands.add_parser("check", help="verify balances, lots, stock and cause totals")
    run_bot_command = commands.add_parser("run", help="run the Telegram bot until interrupted")
    run_bot_command.add_argument(
        "--workers",
        type=_jobs,
        default=1,
        help="processes serving the bot: more than 1 needs a webhook and PostgreSQL (default: 1)",
    )
    commands.add_parser("demo", help="the bot on a local Telegram emulator, offline")
    chat_command = commands.add_parser("chat", help="talk to the bot in the terminal")
    chat_command.add_argument(
        "--admin",
        action="store_true",
        help="as a merchant admin (staff commands) instead of a customer",
    )
    chat_command.add_argument(
        "--name", default=CHAT_NAME, help=f"your first name in the chat (default: {CHAT_NAME})"
    )
    emulate = commands.add_parser("emulator", help="a local Telegram Bot API, until Ctrl+C")
    emulate.add_argument(
        "--port",
        type=int,
        default=EMULATOR_PORT,
        help=f"port to listen on (default: {EMULATOR_PORT})",
    )
    emulate.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    tokens = commands.add_parser("api-token", help="merchant API tokens")
    token_commands = tokens.add_subparsers(dest="action", required=True)
    create = token_commands.add_parser("create", help="a new token, printed once")
    create.add_argument("name")
    create.add_argument(
        "--scope",
        action="append",
        choices=sorted(SCOPES),
        dest="scopes",
        help="repeatable; default: purchases",
    )
    token_commands.add_parser("list", help="every token and its scopes")
    revoke = token_commands.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    importer = commands.add_parser("import", help="import a till's CSV export")
    import_kinds = importer.add_subparsers(dest="action", required=True)
    purchases = import_kinds.add_parser("purchases", help="receipts, one row per line item")
    purchases.add_argument("file", type=Path)
    purchases.add_argument(
        "--errors", type=Path, default=None, help="where failed rows go (default: FILE.errors.csv)"
    )
    audit = commands.add_parser("audit", help="merchant actions: who, when, what")
    audit.add_argument(
        "--since",
        type=_aware_datetime,
        default=None,
        help="only actions at or after this ISO 8601 time",
    )
    report = commands.add_parser("report", help="the program's figures for a period")
    report.add_argument("--since", help="first day, YYYY-MM-DD (default: 30 days before --until)")
    report.add_argument("--until", help="day after the last, YYYY-MM-DD (default: today)")
    report.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        dest="output",
        help="table (with the previous period), json or csv (default: table)",
    )
    report.add_argument(
        "--charts", metavar="DIR", help="also write the period's PNG charts into DIR"
    )
    jobs = commands.add_parser("maintenance", help="expire due points, apply tier downgrades")
    jobs.add_argument(
        "--at",
        type=_aware_datetime,
        default=None,
        help="run as of this ISO 8601 time (default: now)",
    )
    nudge = commands.add_parser("nudges", help="who is due which nudge: preview or queue")
    mode = nudge.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="print them; send nothing")
    mode.add_argument("--run-once", action="store_true", help="queue them for sending")
    nudge.add_argument(
        "--at", type=_aware_datetime, default=None, help="as of this ISO 8601 time (default: now)"
    )
    return root


def _version() -> str:
    """This package's version, from its installed metadata."""
    try:
        return version("loyalty-bot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _jobs(text: str) -> int:
    """A count of worker processes: 1 to 64, in ASCII digits."""
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_JOBS):
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_JOBS}")
    return int(text)


def _aware_datetime(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code says whether it succeeded."""
    args = parser().parse_args(argv)
    if args.command == "emulator":  # needs no settings
        try:
            return emulator(args.host, args.port, EMULATOR_TOKEN)
        except SettingsError as error:
            print(render_text("bad_argument", error=error), file=sys.stderr)
            return 2
    try:
        settings = load_settings()
    except SettingsError as error:
        print(render_text("bad_setting", error=error), file=sys.stderr)
        return 2
    if args.command == "program" and args.action == "check":
        return program_check(args.file, settings, args.at)
    try:
        if args.command == "program":
            return asyncio.run(
                simulate_command(
                    settings,
                    args.file,
                    args.since,
                    args.until,
                    _safe_url(settings.database_url),
                    args.jobs,
                )
            )
        if args.command == "run":
            problem = workers_problem(settings, args.workers)
            if problem:
                print(render_text("bad_argument", error=problem), file=sys.stderr)
                return 2
            return run(settings, args.workers)
        if args.command == "demo":
            return demo()
        if args.command == "chat":
            from bot.chat import chat

            asyncio.run(chat(settings, input, print, admin=args.admin, name=args.name))
            return 0
        if args.command == "api-token":
            return asyncio.run(api_token(settings, args))
        if args.command == "audit":
            return asyncio.run(print_audit(settings, args.since))
        if args.command == "import":
            return asyncio.run(import_command(settings, args.file, error_file=args.errors))
        if args.command == "report":
            return asyncio.run(
                report_command(settings, args.since, args.until, args.output, args.charts)
            )
        if args.command == "maintenance":
            return asyncio.run(maintenance(settings, args.at))
        if args.command == "nudges":
            return asyncio.run(nudges_command(settings, args.dry_run, args.at))
        command = db_upgrade if args.action == "upgrade" else db_check
        return asyncio.run(command(settings))
    except SettingsError as error:
        print(render_text("bad_setting", error=error), file=sys.stderr)
        return 2
    except UnwritableDatabase as error:
        print(render_text("bad_setting", error=f"DATABASE_URL: {error}"), file=sys.stderr)
        return 2
    except ProgramError as error:
        print(program_problems(error.problems, str(settings.loyalty_program)), file=sys.stderr)
        return 1
    except (OSError, DBAPIError) as error:
        cause = getattr(error, "orig", None) or error
        reason = str(cause) or type(cause).__name__  # a timeout says nothing by itself
        print(
            render_text("db_unreachable", url=_safe_url(settings.database_url), reason=reason),
            file=sys.stderr,
        )
        return 1


def demo() -> int:
    """`loyalty-bot demo`: the story on the emulator; one line if the bot stops answering."""
    from bot.demo import PATIENCE, DemoStalled, story

    try:
        asyncio.run(story(print))
    except DemoStalled:
        print(render_text("demo_stalled", seconds=round(PATIENCE)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
