"""Routing each incoming event to its handler, with one error boundary for all of them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.conversation.actions import Action, Answer, Send
from bot.conversation.buttons import Press, read_press
from bot.conversation.context import Context
from bot.conversation.desk import staff_reply
from bot.conversation.events import Incoming
from bot.conversation.handlers.account import balance, card, help_
from bot.conversation.handlers.common import answered
from bot.conversation.handlers.donate import STEP as DONATE_STEP
from bot.conversation.handlers.donate import (
    back_to_causes,
    choose_cause,
    chosen_amount,
    confirm_donation,
    show_causes,
    typed_amount,
)
from bot.conversation.handlers.gift import gift_pressed
from bot.conversation.handlers.history import show_history, turn_page
from bot.conversation.handlers.invite import show_invite
from bot.conversation.handlers.phone import shared_contact
from bot.conversation.handlers.rewards import (
    back_to_rewards,
    confirm_redemption,
    reward_detail,
    show_rewards,
    show_vouchers,
)
from bot.conversation.handlers.settings import (
    TIMEZONE_STEP,
    ask_forget,
    change_setting,
    confirm_forget,
    show_settings,
    typed_timezone,
)
from bot.conversation.handlers.start import start
from bot.conversation.handlers.survey import ANSWER as SURVEY_ANSWER
from bot.conversation.handlers.survey import COMMENT_STEP as SURVEY_COMMENT_STEP
from bot.conversation.handlers.survey import answer_pressed, typed_comment
from bot.conversation.texts import label_keys
from bot.conversation.typed import unreadable
from domain.models import ChatState, Member
from domain.services.conversations import forget_step, member_and_step
from domain.services.members import pick_locale, set_reachable
from messages.render import render

log = logging.getLogger(__name__)

MemberHandler = Callable[[Context, Incoming, Member], Awaitable[list[Action]]]
PressHandler = Callable[[Context, Incoming, Member, Press], Awaitable[list[Action]]]

StepHandler = Callable[[Context, Incoming, Member, ChatState], Awaitable[list[Action]]]

COMMANDS: dict[str, MemberHandler] = {
    "card": card, "balance": balance, "help": help_, "history": show_history,
    "rewards": show_rewards, "vouchers": show_vouchers, "donate": show_causes,
    "invite": show_invite, "settings": show_settings, "forget": ask_forget,
}
MENU: dict[str, MemberHandler] = {
    "menu_card": card, "menu_balance": balance, "menu_help": help_, "menu_rewards": show_rewards,
    "menu_donate": show_causes, "menu_invite": show_invite,
}
PRESSES: dict[str, PressHandler] = {
    "h": turn_page, "rw": reward_detail, "rc": confirm_redemption, "rl": back_to_rewards,
    "dc": choose_cause, "da": chosen_amount, "dy": confirm_donation, "dl": back_to_causes,
    "sl": change_setting, "so": change_setting, "sr": change_setting, "st": change_setting,
    "fy": confirm_forget, "fn": confirm_forget, "bg": gift_pressed,
    "sv": change_setting, SURVEY_ANSWER: answer_pressed,
}
STEPS: dict[str, StepHandler] = {
    DONATE_STEP: lambda ctx, event, member, state: typed_amount(ctx, event, member,
                                                                state.data.get("cause", "")),
    TIMEZONE_STEP: lambda ctx, event, member, state: typed_timezone(ctx, event, member),
    SURVEY_COMMENT_STEP: typed_comment,
}


class Conversation:
    """The framework-neutral bot: an event in, the actions to take out."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def handle(self, event: Incoming) -> list[Action]:
        """Handle one update; an unexpected error is logged and the person gets an apology."""
        try:
            return await self._route(event)
        except Exception:
            log.exception("update %s from user %s failed", event.update_id, event.person.id)
            locale = pick_locale(self.ctx.program, event.person.language_code)
            actions: list[Action] = [Send(event.chat_id, render("error", locale))]
            if event.callback_id:
                actions.insert(0, Answer(event.callback_id))
            return actions

    async def _route(self, event: Incoming) -> list[Action]:
        if event.kind in ("blocked", "unblocked"):
            await set_reachable(self.ctx.writer(), event.person.id, event.kind == "unblocked")
            return []
        locale = pick_locale(self.ctx.program, event.person.language_code)
        if not event.private:
            if event.command is None:
                return []
            return [Send(event.chat_id, render("private_only", locale,
                                               bot_username=self.ctx.bot_username))]
        if unreadable(event.text) or unreadable(event.html):
            return await self._unreadable(event, locale)
        if event.command == "start":
            return await start(self.ctx, event)
        member, state = await member_and_step(self.ctx.reader(), event.person.id,
                                              self.ctx.clock())
        staff_actions = await staff_reply(self.ctx, event, member, state)
        if staff_actions is not None:
            return staff_actions
        if member is None and event.command == "help":  # staff who never joined too
            return await help_(self.ctx, event, None)
        if member is None:
            return self._answered(event, [Send(event.chat_id, render(
                "not_joined", locale, program=self.ctx.program))])
        if event.kind == "contact":
            return await shared_contact(self.ctx, event, member)
        if event.kind == "callback":
            return await self._press(event, member)
        handler = COMMANDS.get(event.command or "") or MENU.get(
            label_keys().get(event.text or "", ""))
        if handler is not None:
            if state is not None:  # a command or menu tap leaves any half-done step
                await forget_step(self.ctx.writer(), event.person.id)
            return await handler(self.ctx, event, member)
        step = STEPS.get(state.step) if state and event.text and not event.command else None
        if step is not None and state is not None:
            return await step(self.ctx, event, member, state)
        return [Send(event.chat_id, render("unknown", member.locale))]

    async def _unreadable(self, event: Incoming, locale: str) -> list[Action]:
        """Text with a control character: refused before any command, step or service."""
        member, _ = await member_and_step(self.ctx.reader(), event.person.id, self.ctx.clock())
        return [Send(event.chat_id, render("unreadable_text",
                                           member.locale if member else locale))]

    async def _press(self, event: Incoming, member: Member) -> list[Action]:
        """A verified button press goes to its handler; a forged or stale one is refused."""
        press = read_press(self.ctx, event.person.id, event.callback_data)
        handler = PRESSES.get(press.action) if press else None
        assert event.callback_id is not None
        if press is None or handler is None:
            return [Answer(event.callback_id, render("refusal", member.locale,
                                                     reason="button_invalid"))]
        return answered(event, await handler(self.ctx, event, member, press))

    @staticmethod
    def _answered(event: Incoming, actions: list[Action]) -> list[Action]:
        """Stop a pressed button's spinner before replying."""
        return [Answer(event.callback_id), *actions] if event.callback_id else actions
