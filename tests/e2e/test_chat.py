"""`loyalty-bot chat`: typed lines reach the bot; buttons are pressed by number."""

from __future__ import annotations

from pathlib import Path

from bot.chat import chat
from bot.settings import Settings


async def test_a_scripted_terminal_chat(tmp_path: Path):
    script = iter(["/start", "/rewards", "1", "7", ":phone +1 555 123 4567", "", ":quit"])
    lines: list[str] = []

    def read(prompt: str) -> str:
        return next(script)

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/chat.db")
    await chat(settings, read, lines.append)
    out = "\n".join(lines)
    assert "Welcome to Northwind Rewards, You!" in out
    assert "[1: Free coffee · 150 ]" in out
    assert "You need 100 more points." in out
    assert "(there is no button 7 on the latest message with buttons)" in out
    assert "+15551234567 will now earn you points" in out


async def test_the_chat_ends_with_the_input(tmp_path: Path):
    def read(prompt: str) -> str:
        raise EOFError

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/chat.db")
    await chat(settings, read, lambda line: None)
