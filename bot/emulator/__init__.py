"""A local stand-in for the Telegram Bot API over real HTTP, with simulated users.

async with Emulator(token="123:ABC", bot_username="northwind_loyalty_bot") as emu:
    ann = emu.user(1001, first_name="Ann")
    await ann.send("/start")
    reply = await ann.wait_for_message()
"""

from bot.emulator.client import Press, SimulatedGroup, SimulatedUser
from bot.emulator.emulator import Emulator
from bot.emulator.state import (
    ApiCall,
    CallbackAnswer,
    InlineButton,
    KeyboardButton,
    MessageVersion,
    SentMessage,
)
from bot.emulator.webhook import Delivery
from bot.html import FormattedText, HtmlError, parse_html, utf16_len

__all__ = [
    "ApiCall",
    "CallbackAnswer",
    "Delivery",
    "Emulator",
    "FormattedText",
    "HtmlError",
    "InlineButton",
    "KeyboardButton",
    "MessageVersion",
    "Press",
    "SentMessage",
    "SimulatedGroup",
    "SimulatedUser",
    "parse_html",
    "utf16_len",
]
