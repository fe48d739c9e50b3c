"""A tiny echo bot on aiogram and on python-telegram-bot, run against the emulator."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from telegram import InlineKeyboardButton as PtbButton
from telegram import InlineKeyboardMarkup as PtbMarkup
from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import Emulator
from tests.emulator.conftest import TOKEN, png

CARD = png(64, 48)


async def aiogram_bot(emu: Emulator) -> AsyncIterator[None]:
    router = Router()

    @router.message(F.text == "/card")
    async def card(message: Message) -> None:
        await message.answer_photo(
            BufferedInputFile(CARD, "card.png"), caption="<b>Your card</b>", parse_mode="HTML"
        )

    @router.message(F.text)
    async def echo(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Again", callback_data=f"again:{message.text}")]
            ]
        )
        await message.answer(
            f"<b>{html.escape(message.text or '')}</b>", parse_mode="HTML", reply_markup=keyboard
        )

    @router.callback_query(F.data.startswith("again:"))
    async def again(query: CallbackQuery) -> None:
        await query.answer(f"echo {query.data}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=10)
    )
    try:
        yield
    finally:
        await dispatcher.stop_polling()
        await polling


async def ptb_bot(emu: Emulator) -> AsyncIterator[None]:
    async def card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_photo(CARD, caption="<b>Your card</b>", parse_mode="HTML")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        assert update.message.text is not None
        text = update.message.text
        keyboard = PtbMarkup([[PtbButton("Again", callback_data=f"again:{text}")]])
        await update.message.reply_text(
            f"<b>{html.escape(text)}</b>", parse_mode="HTML", reply_markup=keyboard
        )

    async def again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer(f"echo {update.callback_query.data}")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{emu.base_url}/bot")
        .base_file_url(f"{emu.base_url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("card", card))
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(again, pattern="^again:"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


@pytest.fixture(params=["aiogram", "ptb"])
async def running(request: pytest.FixtureRequest, emu: Emulator) -> AsyncIterator[Emulator]:
    """The emulator with an echo bot on one framework polling it."""
    runner = aiogram_bot if request.param == "aiogram" else ptb_bot
    async for _ in runner(emu):
        yield emu


async def test_text_is_echoed(running: Emulator) -> None:
    ann = running.user(1001, first_name="Ann")
    await ann.send("hello <world> & 👍")
    reply = await ann.wait_for_message()
    assert reply.text == "hello <world> & 👍"  # the bot's HTML escaping held
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 18}]  # 👍 counts 2
    assert reply.buttons[0][0].callback_data == "again:hello <world> & 👍"
    assert running.calls_to("getMe")


async def test_button_press_reaches_the_callback_handler(running: Emulator) -> None:
    ann = running.user(1001, first_name="Ann")
    await ann.send("ping")
    await ann.wait_for_message()
    press = await ann.press("Again")
    answer = await press.answered()
    assert answer.text == "echo again:ping"
    assert [call.ok for call in running.calls_to("answerCallbackQuery")] == [True]


async def test_photo_bytes_arrive(running: Emulator) -> None:
    ann = running.user(1001, first_name="Ann")
    await ann.send("/card")
    reply = await ann.wait_for_message()
    assert reply.photo == CARD
    assert reply.caption == "Your card"
    assert reply.raw["photo"][0]["width"] == 64
    assert reply.raw["photo"][0]["height"] == 48
