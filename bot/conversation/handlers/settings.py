"""/settings (language, time zone, offers, reminders, surveys) and /forget (erase personal
data)."""

from __future__ import annotations

import secrets

from bot.conversation.actions import Action, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import current_balance, message_id, refused
from bot.conversation.menus import staff_menu
from bot.conversation.routes import Feature
from bot.conversation.texts import labels, language_name, main_menu
from domain.errors import InvalidRequest, NotFound
from domain.models import ChatState, Member
from domain.services.conversations import forget_step, remember_step
from domain.services.members import forget, update_settings
from domain.services.staff import role_of
from domain.services.surveys import set_surveys
from messages.render import render

TIMEZONE_STEP = "timezone"
SHOWN_TYPED = 64  # characters of a refused time zone shown back (the reply must stay short)
LANGUAGE = "sl"  # button action: speak this language (its code)
OFFERS = "so"  # button action: offers on or off
REMINDERS = "sr"  # button action: reminders on or off
SURVEYS = "sv"  # button action: surveys on or off
TIMEZONE = "st"  # button action: ask for a time zone
FORGET = "fy"  # button action: erase my personal data (a one-off nonce)
KEEP = "fn"  # button action: keep them (cancel /forget)


async def show_settings(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The current settings with a button for each change."""
    text, buttons = _view(ctx, event, member)
    return [Send(event.chat_id, text, buttons=buttons)]


async def change_setting(ctx: Context, event: Incoming, member: Member,
                         press: Press) -> list[Action]:
    """Apply one button: a language, offers or reminders on/off, or ask for a time zone."""
    if press.action == TIMEZONE:
        await remember_step(ctx.writer(), event.person.id, TIMEZONE_STEP, {}, ctx.clock())
        return [Send(event.chat_id, render("timezone_prompt", member.locale))]
    if press.action == LANGUAGE and press.args and press.args[0] in ctx.program.info.locales:
        changes: dict[str, object] = {"locale": press.args[0]}
    elif press.action == OFFERS:
        changes = {"marketing_opt_in": not member.marketing_opt_in}
    elif press.action == REMINDERS:
        changes = {"reminders_opt_in": not member.reminders_opt_in}
    elif press.action == SURVEYS:
        changes = {"surveys_opt_in": not member.surveys_opt_in}
    else:
        return []
    if "surveys_opt_in" in changes:  # off also cancels the surveys queued
        updated = await set_surveys(ctx.writer(), member.id, not member.surveys_opt_in,
                                    ctx.clock())
    else:
        updated = await update_settings(ctx.writer(), member.id, **changes)
    text, buttons = _view(ctx, event, updated)
    actions: list[Action] = [Edit(event.chat_id, message_id(event), text, buttons)]
    if "locale" in changes:  # the reply keyboard only changes with a new message
        actions.append(Send(event.chat_id, render("language_changed", updated.locale),
                            keyboard=main_menu(updated.locale)))
        role = await role_of(ctx.reader(), event.person.id, ctx.admins)
        if role is not None:  # a staff member's own menu follows their language
            actions.append(staff_menu(event.chat_id, role, updated.locale))
    return actions


async def typed_timezone(ctx: Context, event: Incoming, member: Member,
                         state: ChatState) -> list[Action]:
    """A typed time zone while that step is open: store it or say what a name looks like."""
    text = (event.text or "").strip()
    try:
        updated = await update_settings(ctx.writer(), member.id, timezone=text)
    except InvalidRequest:
        shown = text if len(text) <= SHOWN_TYPED else text[:SHOWN_TYPED - 1] + "…"
        return [Send(event.chat_id, render("timezone_invalid", member.locale, text=shown))]
    await forget_step(ctx.writer(), event.person.id)
    reply, buttons = _view(ctx, event, updated)
    return [Send(event.chat_id, reply, buttons=buttons)]


async def ask_forget(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Confirm before erasing anything."""
    names = labels(member.locale)
    row = (button(ctx, event.person.id, names["forget_yes"], FORGET,
                  secrets.token_urlsafe(6)[:8]),
           button(ctx, event.person.id, names["cancel"], KEEP))
    text = render("forget_confirm", member.locale, balance=await current_balance(ctx, member))
    return [Send(event.chat_id, text, buttons=(row,))]


async def confirm_forget(ctx: Context, event: Incoming, member: Member,
                         press: Press) -> list[Action]:
    """Erase the member's personal data (or leave everything, on Cancel)."""
    if press.action == KEEP:
        return [Edit(event.chat_id, message_id(event), render("cancelled", member.locale))]
    try:
        await forget(ctx.writer(), member.id, ctx.clock())
    except NotFound:  # another tap (at the same time, or later) forgot them first
        return refused(event, member.locale, "already_done")
    await forget_step(ctx.writer(), event.person.id)
    return [Edit(event.chat_id, message_id(event), render("forgotten", member.locale))]


def _view(ctx: Context, event: Incoming,
          member: Member) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    names = labels(member.locale)
    languages = tuple(button(ctx, event.person.id, language_name(code), LANGUAGE, code)
                      for code in ctx.program.info.locales if code != member.locale)
    toggles = (
        button(ctx, event.person.id, names["offers_on" if member.marketing_opt_in
                                           else "offers_off"], OFFERS),
        button(ctx, event.person.id, names["reminders_on" if member.reminders_opt_in
                                           else "reminders_off"], REMINDERS),
        button(ctx, event.person.id, names["surveys_on" if member.surveys_opt_in
                                           else "surveys_off"], SURVEYS),
    )
    rows = tuple(row for row in (languages, toggles,
                                 (button(ctx, event.person.id, names["set_timezone"], TIMEZONE),))
                 if row)
    text = render("settings", member.locale, member=member, language=language_name(member.locale),
                  timezone=member.timezone or ctx.program.info.timezone)
    return text, rows


FEATURE = Feature(
    "settings", "member",
    commands={"settings": show_settings, "forget": ask_forget},
    buttons={LANGUAGE: change_setting, OFFERS: change_setting, REMINDERS: change_setting,
             SURVEYS: change_setting, TIMEZONE: change_setting, FORGET: confirm_forget,
             KEEP: confirm_forget},
    steps={TIMEZONE_STEP: typed_timezone},
)
