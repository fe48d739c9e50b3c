"""The two thin Telegram adapters (aiogram 3, python-telegram-bot 22) and what they share."""
