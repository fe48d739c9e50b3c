"""Routing each incoming event to the feature that owns it, with one error boundary for all.

Each feature (bot/conversation/handlers) declares its commands, buttons, typed steps,
reply-keyboard labels and role; this module includes the customers' features, the staff
desk (desk.py) the staff ones, and every route has one owner across both (`check_unique`).
"""

from __future__ import annotations

import logging

from bot.conversation.actions import Action, Answer, Send
from bot.conversation.buttons import Press, read_press
from bot.conversation.context import Context
from bot.conversation.desk import STAFF, staff_reply
from bot.conversation.events import Incoming
from bot.conversation.handlers import (
    account,
    challenges,
    donate,
    earn,
    gift,
    history,
    invite,
    offers,
    phone,
    rewards,
    settings,
    stamps,
    start,
    survey,
    top,
)
from bot.conversation.handlers import (
    help as help_,
)
from bot.conversation.handlers.common import answered
from bot.conversation.routes import Routes, check_unique, include
from bot.conversation.texts import label_keys
from bot.conversation.typed import unreadable
from domain.models import Member
from domain.services.conversations import forget_step, member_and_step
from domain.services.members import pick_locale, set_reachable
from messages.render import render

log = logging.getLogger(__name__)

OPEN: Routes[Member | None] = include({"anyone"}, start.FEATURE, help_.FEATURE)
MEMBERS: Routes[Member] = include(
    {"anyone", "member"},
    *OPEN.features,
    account.FEATURE,
    history.FEATURE,
    rewards.FEATURE,
    donate.FEATURE,
    invite.FEATURE,
    settings.FEATURE,
    gift.FEATURE,
    survey.FEATURE,
    phone.FEATURE,
    earn.FEATURE,
    top.FEATURE,
    challenges.FEATURE,
    stamps.FEATURE,
    offers.FEATURE,
)
check_unique((*MEMBERS.features, *STAFF.features))


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
            return [
                Send(
                    event.chat_id,
                    render("private_only", locale, bot_username=self.ctx.bot_username),
                )
            ]
        if unreadable(event.text) or unreadable(event.html):
            return await self._unreadable(event, locale)
        member, state = await member_and_step(self.ctx.reader(), event.person.id, self.ctx.clock())
        press = (
            read_press(self.ctx, event.person.id, event.callback_data)
            if event.kind == "callback"
            else None
        )
        staff_actions = await staff_reply(self.ctx, event, member, state, press)
        if staff_actions is not None:
            return staff_actions
        if member is None:
            return await self._visitor(event, locale)
        if event.kind == "contact" and MEMBERS.contact is not None:
            return await MEMBERS.contact.handler(self.ctx, event, member)
        if event.kind == "callback":
            return await self._press(event, member, press)
        route = MEMBERS.commands.get(event.command or "") or MEMBERS.labels.get(
            label_keys().get(event.text or "", "")
        )
        if route is not None:
            if state is not None:  # a command or menu tap leaves any half-done step
                await forget_step(self.ctx.writer(), event.person.id)
            return await route.handler(self.ctx, event, member)
        step = MEMBERS.steps.get(state.step) if state and event.text and not event.command else None
        if step is not None and state is not None:
            return await step.handler(self.ctx, event, member, state)
        return [Send(event.chat_id, render("unknown", member.locale))]

    async def _visitor(self, event: Incoming, locale: str) -> list[Action]:
        """Someone who has not joined: a command open to anyone (/start, /help), or how to
        join."""
        route = OPEN.commands.get(event.command or "")
        if route is not None:
            return await route.handler(self.ctx, event, None)
        return self._answered(
            event, [Send(event.chat_id, render("not_joined", locale, program=self.ctx.program))]
        )

    async def _unreadable(self, event: Incoming, locale: str) -> list[Action]:
        """Text with a control character: refused before any command, step or service."""
        member, _ = await member_and_step(self.ctx.reader(), event.person.id, self.ctx.clock())
        return [Send(event.chat_id, render("unreadable_text", member.locale if member else locale))]

    async def _press(self, event: Incoming, member: Member, press: Press | None) -> list[Action]:
        """A verified button press goes to its handler; a forged or stale one is refused."""
        route = MEMBERS.buttons.get(press.action) if press else None
        assert event.callback_id is not None
        if press is None or route is None:
            return [
                Answer(event.callback_id, render("refusal", member.locale, reason="button_invalid"))
            ]
        return answered(event, await route.handler(self.ctx, event, member, press))

    @staticmethod
    def _answered(event: Incoming, actions: list[Action]) -> list[Action]:
        """Stop a pressed button's spinner before replying."""
        return [Answer(event.callback_id), *actions] if event.callback_id else actions
