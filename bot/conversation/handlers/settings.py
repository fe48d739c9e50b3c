"""/settings (language, time zone, offers, reminders, surveys, the birthday, the name on
/top) and /forget (erase personal data).

The birthday is picked with buttons (month, day, then confirm), so no date format can be
misread; it is set once and may change a year later. The birthday button shows only when
the program has a birthday action, the /top one only when the leaderboard is on.
"""

from __future__ import annotations

import calendar
import secrets
from datetime import date

from babel import Locale

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import (
    callback_id,
    current_balance,
    message_id,
    refused,
)
from bot.conversation.menus import member_menu, staff_menu
from bot.conversation.routes import Feature
from bot.conversation.texts import labels, language_name, main_menu
from domain.actions import birthday_changeable
from domain.errors import InvalidRequest, NotFound
from domain.models import ChatState, Member
from domain.services.birthdays import (
    LEAP_YEAR,
    birthday_action,
    check_birthday,
    member_birthday,
    set_birthday,
)
from domain.services.conversations import forget_step, remember_step
from domain.services.leaderboard import is_named, set_named
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
NAMED = "sn"  # button action: my first name on /top, on or off
BIRTHDAY = "sb"  # button action: set my birthday (pick the month first)
BIRTHDAY_MONTH = "sm"  # button action: the birthday's month (month)
BIRTHDAY_DAY = "sd"  # button action: the birthday's day (month, day): confirm it
BIRTHDAY_SAVE = "sk"  # button action: save the birthday (month, day)
BACK = "sx"  # button action: back to the settings
MONTHS_PER_ROW, DAYS_PER_ROW = 4, 7


async def show_settings(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The current settings with a button for each change."""
    text, buttons = await _view(ctx, event, member)
    return [Send(event.chat_id, text, buttons=buttons)]


async def change_setting(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
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
        updated = await set_surveys(ctx.writer(), member.id, not member.surveys_opt_in, ctx.clock())
    else:
        updated = await update_settings(ctx.writer(), member.id, **changes)
    text, buttons = await _view(ctx, event, updated)
    actions: list[Action] = [Edit(event.chat_id, message_id(event), text, buttons)]
    if "locale" in changes:  # the reply keyboard only changes with a new message
        actions.append(
            Send(
                event.chat_id,
                render("language_changed", updated.locale),
                keyboard=main_menu(updated.locale),
            )
        )
        role = await role_of(ctx.reader(), event.person.id, ctx.admins)
        if role is not None:  # a staff member's own menu follows their language
            actions.append(staff_menu(event.chat_id, role, updated.locale, ctx.web_url))
        else:
            actions.append(member_menu(ctx, event.chat_id, updated.locale))
    return actions


async def typed_timezone(
    ctx: Context, event: Incoming, member: Member, state: ChatState
) -> list[Action]:
    """A typed time zone while that step is open: store it or say what a name looks like."""
    text = (event.text or "").strip()
    try:
        updated = await update_settings(ctx.writer(), member.id, timezone=text)
    except InvalidRequest:
        shown = text if len(text) <= SHOWN_TYPED else text[: SHOWN_TYPED - 1] + "…"
        return [Send(event.chat_id, render("timezone_invalid", member.locale, text=shown))]
    await forget_step(ctx.writer(), event.person.id)
    reply, buttons = await _view(ctx, event, updated)
    return [Send(event.chat_id, reply, buttons=buttons)]


async def toggle_named(ctx: Context, event: Incoming, member: Member, press: Press) -> list[Action]:
    """Show my first name on /top, or a masked code (the default)."""
    await set_named(
        ctx.writer(), member.id, not await is_named(ctx.reader(), member.id), ctx.clock()
    )
    text, buttons = await _view(ctx, event, member)
    return [Edit(event.chat_id, message_id(event), text, buttons)]


async def back_to_settings(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """The settings again, in place of the birthday picker."""
    text, buttons = await _view(ctx, event, member)
    return [Edit(event.chat_id, message_id(event), text, buttons)]


async def pick_birthday(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """The birthday picker: the months; a month's days; the day chosen, to confirm. A
    birthday set less than a year ago cannot change yet: the member is told from when."""
    birthday = await member_birthday(ctx.reader(), member.id)
    if birthday is not None and not birthday_changeable(birthday.set_at, ctx.clock()):
        return [
            Answer(
                callback_id(event),
                render(
                    "birthday_locked",
                    member.locale,
                    birthday=date(LEAP_YEAR, birthday.month, birthday.day),
                    since=birthday.set_at,
                    zone=member.timezone or ctx.program.info.timezone,
                ),
                alert=True,
            )
        ]
    picked = _picked(press)
    if picked is None:
        return refused(event, member.locale, "gone")
    month, day = picked
    me, names = event.person.id, labels(member.locale)
    back = (button(ctx, me, names["back"], BACK),)
    if month is None:
        months = [
            button(ctx, me, _month_name(member.locale, m), BIRTHDAY_MONTH, str(m))
            for m in range(1, 13)
        ]
        rows = _rows(months, MONTHS_PER_ROW)
    elif day is None:
        days = [
            button(ctx, me, str(d), BIRTHDAY_DAY, str(month), str(d))
            for d in range(1, calendar.monthrange(LEAP_YEAR, month)[1] + 1)
        ]
        rows = _rows(days, DAYS_PER_ROW)
    else:
        rows = ((button(ctx, me, names["birthday_save"], BIRTHDAY_SAVE, str(month), str(day)),),)
    text = render(
        "birthday_pick",
        member.locale,
        month=month,
        day=date(LEAP_YEAR, month, day) if month and day else None,
        month_name=_month_name(member.locale, month, wide=True) if month else "",
    )
    return [Edit(event.chat_id, message_id(event), text, (*rows, back))]


async def save_birthday(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Store the birthday chosen; the settings show it."""
    month, day = _picked(press) or (None, None)
    if month is None or day is None:
        return refused(event, member.locale, "gone")
    saved = await set_birthday(
        ctx.writer(), member_id=member.id, month=month, day=day, now=ctx.clock()
    )
    if not saved.changed:  # a twin tap (or another chat) set it first
        return refused(event, member.locale, "already_done")
    text, buttons = await _view(ctx, event, member)
    return [Edit(event.chat_id, message_id(event), text, buttons)]


def _picked(press: Press) -> tuple[int | None, int | None] | None:
    """The month and day a birthday button carries (None where not chosen yet); None when
    they are no day of the year."""
    if len(press.args) > 2 or not all(arg.isdigit() for arg in press.args):
        return None
    numbers = [int(arg) for arg in press.args]
    month = numbers[0] if numbers else None
    day = numbers[1] if len(numbers) == 2 else None
    try:
        check_birthday(1 if month is None else month, 1 if day is None else day)
    except InvalidRequest:
        return None
    return month, day


def _month_name(locale: str, month: int, wide: bool = False) -> str:
    """A month's name in `locale` as it stands alone: 'Sep' / 'Sept' on a button, or
    'September' / 'septiembre' in a sentence."""
    name = str(Locale.parse(locale).months["stand-alone"]["wide" if wide else "abbreviated"][month])
    return name if wide else name.capitalize()


def _rows(buttons: list[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


async def ask_forget(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Confirm before erasing anything."""
    names = labels(member.locale)
    row = (
        button(ctx, event.person.id, names["forget_yes"], FORGET, secrets.token_urlsafe(6)[:8]),
        button(ctx, event.person.id, names["cancel"], KEEP),
    )
    text = render("forget_confirm", member.locale, balance=await current_balance(ctx, member))
    return [Send(event.chat_id, text, buttons=(row,))]


async def confirm_forget(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Erase the member's personal data (or leave everything, on Cancel)."""
    if press.action == KEEP:
        return [Edit(event.chat_id, message_id(event), render("cancelled", member.locale))]
    try:
        await forget(ctx.writer(), member.id, ctx.clock())
    except NotFound:  # another tap (at the same time, or later) forgot them first
        return refused(event, member.locale, "already_done")
    await forget_step(ctx.writer(), event.person.id)
    return [Edit(event.chat_id, message_id(event), render("forgotten", member.locale))]


async def _view(
    ctx: Context, event: Incoming, member: Member
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    names = labels(member.locale)
    languages = tuple(
        button(ctx, event.person.id, language_name(code), LANGUAGE, code)
        for code in ctx.program.info.locales
        if code != member.locale
    )
    toggles = (
        button(
            ctx,
            event.person.id,
            names["offers_on" if member.marketing_opt_in else "offers_off"],
            OFFERS,
        ),
        button(
            ctx,
            event.person.id,
            names["reminders_on" if member.reminders_opt_in else "reminders_off"],
            REMINDERS,
        ),
        button(
            ctx,
            event.person.id,
            names["surveys_on" if member.surveys_opt_in else "surveys_off"],
            SURVEYS,
        ),
    )
    more = [button(ctx, event.person.id, names["set_timezone"], TIMEZONE)]
    birthday = None
    if birthday_action(ctx.program) is not None:
        birthday = await member_birthday(ctx.reader(), member.id)
        more.append(button(ctx, event.person.id, names["birthday"], BIRTHDAY))
    named = None
    if ctx.program.leaderboard.enabled:
        named = await is_named(ctx.reader(), member.id)
        more.append(
            button(ctx, event.person.id, names["top_name_on" if named else "top_name_off"], NAMED)
        )
    rows = tuple(row for row in (languages, toggles, tuple(more)) if row)
    text = render(
        "settings",
        member.locale,
        member=member,
        language=language_name(member.locale),
        timezone=member.timezone or ctx.program.info.timezone,
        named=named,
        has_birthday=birthday_action(ctx.program) is not None,
        birthday=date(LEAP_YEAR, birthday.month, birthday.day) if birthday else None,
    )
    return text, rows


FEATURE = Feature(
    "settings",
    "member",
    commands={"settings": show_settings, "forget": ask_forget},
    buttons={
        LANGUAGE: change_setting,
        OFFERS: change_setting,
        REMINDERS: change_setting,
        SURVEYS: change_setting,
        TIMEZONE: change_setting,
        FORGET: confirm_forget,
        KEEP: confirm_forget,
        NAMED: toggle_named,
        BIRTHDAY: pick_birthday,
        BIRTHDAY_MONTH: pick_birthday,
        BIRTHDAY_DAY: pick_birthday,
        BIRTHDAY_SAVE: save_birthday,
        BACK: back_to_settings,
    },
    steps={TIMEZONE_STEP: typed_timezone},
)
