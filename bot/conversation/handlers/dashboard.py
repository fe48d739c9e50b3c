"""/dashboard for admins: a one-time link that opens the merchant dashboard in a browser.

The link (under WEB_URL) carries a random token, signed, stored only as a hash; it signs in
once within 5 minutes (domain.services.dashboard), and the page it opens sets the session
(bot.web.dashboard). It rides in a URL button, so Telegram shows no preview of it.
"""

from __future__ import annotations

from bot.conversation.actions import Action, Button, Send
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from domain.card_codes import card_key
from domain.services.dashboard import LOGIN_LIFETIME, issue_login, login_key
from messages.render import render

LOGIN_PATH = "/dashboard/login/"


async def dashboard_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """A fresh one-time login link, or how to turn the dashboard on when WEB_URL is unset."""
    if ctx.web_url is None:
        return [Send(event.chat_id, render("dashboard_off", clerk.locale))]
    key = login_key(card_key(ctx.secret))
    token = await issue_login(ctx.writer(), clerk.telegram_id, ctx.clock(), key)
    minutes = int(LOGIN_LIFETIME.total_seconds() // 60)
    link = Button(render("dashboard_button", clerk.locale), url=f"{ctx.web_url}{LOGIN_PATH}{token}")
    return [
        Send(
            event.chat_id,
            render("dashboard_link", clerk.locale, minutes=minutes),
            buttons=((link,),),
        )
    ]


FEATURE = Feature("dashboard", "admin", commands={"dashboard": dashboard_command})
