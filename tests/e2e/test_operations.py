"""`loyalty-bot run` and `loyalty-bot emulator` as real processes, as an operator meets them:
SIGTERM stops in order with exit 0, first-run mistakes end in one line with exit 2, and no
log line at any level holds the bot token or the webhook secret."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.emulator import Emulator
from domain.broadcasts import BroadcastContent
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from storage.database import Database
from storage.migrate import ensure_schema
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.delivery.test_emulator import members_on
from tests.e2e.conftest import TOKEN
from tests.e2e.test_webhook_and_restarts import free_port

LOYALTY_BOT = str(Path(sys.executable).with_name("loyalty-bot"))
FRAMEWORKS = ["aiogram", "ptb"]
SECRET = "Webhook-Secret_0123456789abcdef"
STOP_WITHIN = 60.0  # seconds: a bound on a hang (a loaded CI host is slow), not a timing


def bot_env(emulator_base: str, tmp_path: Path, framework: str, **extra: str) -> dict[str, str]:
    """The environment of `loyalty-bot run` on the emulator with its own SQLite file."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": emulator_base,
        "BOT_FRAMEWORK": framework,
        "API_PORT": "0",
        **extra,
    }


async def start(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`loyalty-bot ARGS` with its output piped."""
    return await asyncio.create_subprocess_exec(
        LOYALTY_BOT, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def up(emulator: Emulator) -> None:
    """Wait until the bot has set its menus: it is up."""
    await emulator.wait_until(
        lambda: len(emulator.calls_to("setMyCommands")) >= 3, timeout=STOP_WITHIN
    )


async def stopped(process: asyncio.subprocess.Process, how: signal.Signals) -> tuple[int, str]:
    """Send `how`; the exit code and everything written to stderr."""
    process.send_signal(how)
    _, err = await asyncio.wait_for(process.communicate(), STOP_WITHIN)
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_sigterm_stops_run_in_order_and_exits_0(framework, emulator, tmp_path):
    env = bot_env(emulator.base_url, tmp_path, framework, API_PORT=str(free_port()))
    bot = await start("run", env=env)
    await up(emulator)
    ann = emulator.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message(timeout=STOP_WITHIN)
    code, log = await stopped(bot, signal.SIGTERM)
    assert code == 0, log
    assert "SIGTERM received: stopping" in log
    assert "stopping: taking no more updates, finishing the work under way" in log
    assert log.rstrip().endswith("INFO bot.cli: stopped")
    assert "Traceback" not in log
    assert " ERROR " not in log  # aiogram's fetch loop, once left running, failed on stop
    assert TOKEN.split(":")[1] not in log  # polling at INFO: httpx logged every URL (ptb)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_sigterm_mid_broadcast_hands_the_claimed_rows_back(
    framework, emulator, tmp_path, empty_database_url
):
    url = empty_database_url
    database = Database(url)
    await ensure_schema(database)
    ids = range(1001, 1041)
    await members_on(emulator, database, ids)
    await queue_broadcast(SqlUnitOfWork(database), BroadcastContent("Hi"), Segment(), "admin", NOW)
    env = bot_env(emulator.base_url, tmp_path, framework, DATABASE_URL=url, SEND_RATE="8")
    bot = await start("run", env=env)
    await emulator.wait_until(
        lambda: len(emulator.calls_to("sendMessage")) >= 4, timeout=STOP_WITHIN
    )
    code, log = await stopped(bot, signal.SIGTERM)
    assert code == 0, log
    async with database.reader.connect() as conn:
        rows = (
            await conn.execute(
                select(OutboxRow.c.state, OutboxRow.c.claimed_by, func.count()).group_by(
                    OutboxRow.c.state, OutboxRow.c.claimed_by
                )
            )
        ).all()
    await database.dispose()
    counts = {(state, claimed_by is not None): count for state, claimed_by, count in rows}
    delivered = sum(len(emulator.user(user_id).messages) for user_id in ids)
    assert counts.get(("pending", True), 0) == 0  # every claim not sent was handed back
    assert counts.get(("sent", False), 0) == delivered  # every send under way was recorded
    assert 0 < delivered < len(ids)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_no_log_line_holds_the_token_or_the_secret(framework, emulator, tmp_path):
    port, api = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    env = bot_env(
        emulator.base_url,
        tmp_path,
        framework,
        LOG_LEVEL="DEBUG",
        WEBHOOK_URL=url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=str(port),
        API_PORT=str(api),
    )
    bot = await start("run", env=env)
    await up(emulator)
    await emulator.wait_until(lambda: emulator.webhook_url == url, timeout=STOP_WITHIN)
    ann = emulator.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message(timeout=STOP_WITHIN)
    async with aiohttp.ClientSession() as http:  # a forged update and an API call, logged
        async with http.post(
            url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        ) as answer:
            assert answer.status == 403
        async with http.get(f"http://127.0.0.1:{api}/healthz") as answer:
            assert answer.status in (200, 503)
    code, log = await stopped(bot, signal.SIGTERM)
    assert code == 0, log
    assert " DEBUG " in log  # the run really logged at DEBUG
    assert (
        f"listening: merchant API on http://127.0.0.1:{api}; Telegram updates on the "
        f"webhook at http://127.0.0.1:{port}/telegram/webhook (public URL {url})"
    ) in log
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET):
        assert secret not in log
    assert "[redacted]" not in log  # nothing even tried to log them: the net stayed empty


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_token_telegram_refuses_is_one_line_and_exit_2(framework, emulator, tmp_path):
    env = bot_env(emulator.base_url, tmp_path, framework, BOT_TOKEN="999:NOT-THE-TOKEN")
    bot = await start("run", env=env)
    _, err = await asyncio.wait_for(bot.communicate(), STOP_WITHIN)
    assert bot.returncode == 2
    assert err.decode().splitlines() == [
        "loyalty-bot: setting BOT_TOKEN: Telegram refused this token; copy it again from "
        "@BotFather (/mybots, API Token)"
    ]
    assert not (tmp_path / "bot.db").exists()  # refused before the database was touched


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_telegram_unreachable_is_one_line_and_exit_2(framework, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    bot = await start("run", env=bot_env(closed, tmp_path, framework))
    _, err = await asyncio.wait_for(bot.communicate(), STOP_WITHIN)
    assert bot.returncode == 2
    lines = err.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"loyalty-bot: setting TELEGRAM_API_BASE: cannot reach {closed} (")
    assert lines[0].endswith(
        "); check the network, or leave TELEGRAM_API_BASE unset for api.telegram.org"
    )
    assert TOKEN.split(":")[1] not in lines[0]


async def test_a_taken_api_port_is_one_line_and_exit_2(emulator, tmp_path):
    async with listening_elsewhere() as port:
        bot = await start(
            "run", env=bot_env(emulator.base_url, tmp_path, "aiogram", API_PORT=str(port))
        )
        _, err = await asyncio.wait_for(bot.communicate(), STOP_WITHIN)
    assert bot.returncode == 2
    assert err.decode().splitlines() == [
        f"loyalty-bot: setting API_PORT: cannot listen on 127.0.0.1:{port} (Address already in use)"
    ]
    assert emulator.calls == []  # refused before Telegram or the database


@asynccontextmanager
async def listening_elsewhere() -> AsyncIterator[int]:
    """A port another server listens on."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_the_emulator_command_serves_a_bot_until_sigterm(tmp_path):
    port = free_port()
    emulator = await start("emulator", "--port", str(port), env=dict(os.environ))
    assert emulator.stdout is not None
    ready = (
        await asyncio.wait_for(emulator.stdout.readuntil(b"stops the emulator.\n"), STOP_WITHIN)
    ).decode()
    base = f"http://127.0.0.1:{port}"
    assert f"Local Telegram Bot API emulator on {base}" in ready
    command = next(line.strip() for line in ready.splitlines() if "loyalty-bot run" in line)
    token = command.split("BOT_TOKEN=")[1].split()[0]
    assert command == f"TELEGRAM_API_BASE={base} BOT_TOKEN={token} loyalty-bot run"
    async with aiohttp.ClientSession() as http, http.get(f"{base}/bot{token}/getMe") as answer:
        me = await answer.json()
    assert me["result"]["is_bot"]
    bot = await start("run", env=bot_env(base, tmp_path, "aiogram", BOT_TOKEN=token))
    assert bot.stderr is not None
    while b"is up on aiogram" not in await asyncio.wait_for(bot.stderr.readline(), STOP_WITHIN):
        pass
    assert (await stopped(bot, signal.SIGTERM))[0] == 0
    code, _ = await stopped(emulator, signal.SIGTERM)
    assert code == 0


async def test_the_emulator_stops_on_ctrl_c_too():
    emulator = await start("emulator", "--port", str(free_port()), env=dict(os.environ))
    assert emulator.stdout is not None
    await asyncio.wait_for(emulator.stdout.readuntil(b"stops the emulator.\n"), STOP_WITHIN)
    code, err = await stopped(emulator, signal.SIGINT)
    assert code == 0
    assert "Traceback" not in err
