"""Bare echo bots, the baseline for `bot_bench`: reply with the text, long polling.

Each framework is imported only inside its own function, so a process running one echo
bot holds that framework and nothing else.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def aiogram_echo(token: str, base_url: str) -> None:
    """An aiogram 3 echo bot polling the Bot API at `base_url`, until cancelled."""
    from aiogram import Bot, Dispatcher, F
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    await dispatcher.start_polling(bot, handle_signals=False)


async def ptb_echo(token: str, base_url: str) -> None:
    """A python-telegram-bot echo bot polling the Bot API at `base_url`, until cancelled.

    PTB's defaults: updates are handled one at a time. (The loyalty bot's adapter sets
    `concurrent_updates(UPDATES_AT_ONCE)`; `concurrent_updates(True)` on this echo bot
    halved the rate, see the docs.)
    """
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app: Any = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0)
        try:
            await asyncio.Event().wait()
        finally:
            await app.updater.stop()
            await app.stop()
