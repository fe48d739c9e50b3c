"""Both adapters ask the emulator who is in a channel (getChatMember), and the start-up
check warns once per channel the bot cannot check."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from bot.app import framework
from bot.conversation.channels import CannotCheck, Membership, warn_unchecked_channels
from bot.emulator import Emulator
from domain.program import Action, Program
from domain.program_file import default_program_path, load_program
from tests.emulator.conftest import TOKEN


async def nothing(event: object) -> list[object]:
    return []


@pytest.mark.parametrize("name", ["aiogram", "ptb"])
async def test_channel_membership_on_each_framework(emu: Emulator, name: str) -> None:
    news = emu.group(
        -1001, "News", kind="channel", username="northwind_news", bot_status="administrator"
    )
    closed = emu.group(-1002, "Closed", kind="channel", username="northwind_closed")
    ann, bob, cy = emu.user(1001, "Ann"), emu.user(1002, "Bob"), emu.user(1003, "Cy")
    news.set_member(ann, "member")
    news.set_member(bob, "kicked")
    closed.set_member(ann, "member")
    async with framework(name)(TOKEN, emu.base_url, nothing) as telegram:
        await telegram.username()  # PTB initialises its application here
        assert await telegram.chat_member("@northwind_news", ann.id) == Membership("member")
        assert await telegram.chat_member("@northwind_news", bob.id) == Membership("kicked")
        assert await telegram.chat_member("@northwind_news", cy.id) == Membership("left")
        with pytest.raises(CannotCheck, match=r"(?i)member list is inaccessible"):
            await telegram.chat_member("@northwind_closed", ann.id)
        with pytest.raises(CannotCheck, match=r"(?i)chat not found"):
            await telegram.chat_member("@nowhere_at_all", ann.id)


def with_channels(*channels: str) -> Program:
    program = load_program(default_program_path())
    return replace(
        program,
        actions=tuple(
            Action(f"join{i}", "Join", "telegram_channel", points=5, channel=channel)
            for i, channel in enumerate(channels)
        ),
    )


async def test_one_warning_per_channel_the_bot_cannot_check(
    emu: Emulator, caplog: pytest.LogCaptureFixture
):
    emu.group(-1001, "News", kind="channel", username="northwind_news", bot_status="administrator")
    emu.group(-1002, "Closed", kind="channel", username="northwind_closed")
    program = with_channels("@northwind_news", "@northwind_closed", "@nowhere_at_all")
    async with framework("aiogram")(TOKEN, emu.base_url, nothing) as telegram:
        with caplog.at_level(logging.WARNING, logger="bot.conversation.channels"):
            unchecked = await warn_unchecked_channels(program, telegram.chat_member, emu.bot.id)
    assert unchecked == ["@northwind_closed", "@nowhere_at_all"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert (
        "action 'join1': the bot cannot check who joined @northwind_closed (the bot is "
        "'member' there); make the bot an administrator of the channel" in lines[0]
    )
    assert "@nowhere_at_all" in lines[1]
    assert "chat not found" in lines[1]
