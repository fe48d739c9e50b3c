"""/broadcast for admins: the message, an optional button, the segment, preview, send.

The draft lives in the conversation state (a restart keeps it); the segment is built with
buttons or typed conditions and always shows how many members it reaches now. Confirming
queues one outbox row per recipient and turns the confirm message into a live status
message that the delivery side edits as sending goes on. /broadcasts lists past ones and
cancels a running one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape

from bot.broadcast_content import MAX_BONUS, check_content
from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels, language_name
from bot.conversation.typed import TypedNumberError, whole_number
from bot.delivery.compose import broadcast_message
from domain.broadcasts import BroadcastContent
from domain.errors import InvalidRequest
from domain.models import ChatState
from domain.segments import MAX_INACTIVE_DAYS, MAX_MIN_BALANCE, Segment
from domain.services.broadcasts import (
    cancel_broadcast,
    count_segment,
    queue_draft,
    recent_broadcasts,
    set_broadcast_status_message,
)
from domain.services.conversations import forget_step, remember_step
from domain.services.gifts import status_shown
from domain.services.staff import actor
from domain.titles import localized
from messages.render import render

MESSAGE_STEP = "broadcast_message"
BUTTON_STEP = "broadcast_button"
SEGMENT_STEP = "broadcast_segment"
CONDITIONS = {
    "tier": "tier",
    "inactive": "inactive_days",
    "category": "category",
    "language": "locale",
    "balance": "min_balance",
}
SHOWN_DETAIL = 200
NUMERIC = {"inactive_days": MAX_INACTIVE_DAYS, "min_balance": MAX_MIN_BALANCE}  # the largest
NO_BUTTON = "bk"  # button action: go on without a button
CONDITION = "bs"  # button action: a segment condition (choice key, value index) or everyone
PREVIEW = "bp"  # button action: show the message as recipients will get it
SEND = "by"  # button action: queue the broadcast
DROP = "bn"  # button action: drop the draft
STOP = "bx"  # button action: cancel a running broadcast (its id)


async def start_broadcast(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """Ask for the message."""
    await remember_step(ctx.writer(), clerk.telegram_id, MESSAGE_STEP, {}, ctx.clock())
    return [Send(event.chat_id, render("broadcast_ask_message", clerk.locale))]


async def message_step(
    ctx: Context, event: Incoming, clerk: Clerk, state: ChatState
) -> list[Action]:
    """The message as typed, formatting kept; then ask about a button."""
    draft = {
        "html": event.html or escape(event.text or "", quote=False),
        "photo": event.photo_file_id or "",
    }
    try:
        check_content(content_of(draft), ctx.program)
    except InvalidRequest as refused:
        return [_refusal(event, clerk, str(refused))]
    await remember_step(ctx.writer(), clerk.telegram_id, BUTTON_STEP, draft, ctx.clock())
    skip = button(ctx, clerk.telegram_id, labels(clerk.locale)["no_button"], NO_BUTTON)
    return [
        Send(
            event.chat_id,
            render("broadcast_ask_button", clerk.locale, rewards=ctx.program.rewards),
            buttons=((skip,),),
        )
    ]


async def button_step(
    ctx: Context, event: Incoming, clerk: Clerk, state: ChatState
) -> list[Action]:
    """`Text | https://…`, `Text | 50` (bonus points) or `Text | reward:<id>`."""
    text, _, target = (event.text or "").partition("|")
    draft = {**state.data, "button_text": text.strip(), "button_target": target.strip()}
    try:
        check_content(content_of(draft), ctx.program)
    except InvalidRequest as refused:
        return [_refusal(event, clerk, str(refused))]
    return await _to_segment(ctx, event, clerk, draft)


async def no_button_pressed(
    ctx: Context, event: Incoming, clerk: Clerk, press: Press
) -> list[Action]:
    """Go on without a button."""
    state = await _draft(ctx, clerk, BUTTON_STEP)
    if state is None:
        return refused(event, clerk.locale, "gone")
    return await _to_segment(ctx, event, clerk, dict(state.data))


async def segment_step(
    ctx: Context, event: Incoming, clerk: Clerk, state: ChatState
) -> list[Action]:
    """A typed condition such as `inactive 30`, `balance 500` or `everyone`."""
    words = (event.text or "").split()
    segment = segment_of(state.data)
    try:
        segment = with_condition(segment, words, _known(ctx))
    except TypedNumberError as refusal:
        return [
            Send(
                event.chat_id, render("typed_refusal", clerk.locale, refusal=refusal, currency=None)
            )
        ]
    except (InvalidRequest, ValueError):
        return [Send(event.chat_id, render("broadcast_refusal", clerk.locale, detail="segment"))]
    return await _show_segment(ctx, event, clerk, {**state.data, "segment": _dump(segment)})


async def condition_pressed(
    ctx: Context, event: Incoming, clerk: Clerk, press: Press
) -> list[Action]:
    """A condition button: a tier, a language, a category, or everyone."""
    state = await _draft(ctx, clerk, SEGMENT_STEP)
    choices = _choices(ctx)
    if state is None or not press.args or press.args[0] not in (*choices, "e"):
        return refused(event, clerk.locale, "gone")
    segment = segment_of(state.data)
    if press.args[0] == "e":
        segment = Segment()
    elif (
        len(press.args) == 2
        and press.args[1].isdigit()
        and int(press.args[1]) < len(choices[press.args[0]][1])
    ):
        name, values = choices[press.args[0]]
        segment = with_condition(segment, [name, values[int(press.args[1])]], _known(ctx))
    return await _show_segment(ctx, event, clerk, {**state.data, "segment": _dump(segment)})


async def preview_pressed(
    ctx: Context, event: Incoming, clerk: Clerk, press: Press
) -> list[Action]:
    """The exact message recipients will get, then the count and a send button."""
    state = await _draft(ctx, clerk, SEGMENT_STEP)
    if state is None:
        return refused(event, clerk.locale, "gone")
    content, segment = content_of(state.data), segment_of(state.data)
    total = await count_segment(ctx.reader(), segment, ctx.clock())
    names = labels(clerk.locale)
    rows: tuple[tuple[Button, ...], ...] = (
        (
            (
                button(ctx, clerk.telegram_id, names["broadcast_send"], SEND),
                button(ctx, clerk.telegram_id, names["cancel"], DROP),
            ),
        )
        if total
        else ((button(ctx, clerk.telegram_id, names["cancel"], DROP),),)
    )
    preview = broadcast_message(event.chat_id, content, paid=False, gift=(ctx.sign, 0))
    return [
        preview,
        Send(
            event.chat_id,
            render(
                "broadcast_confirm", clerk.locale, program=ctx.program, total=total, segment=segment
            ),
            buttons=rows,
        ),
    ]


async def send_pressed(ctx: Context, event: Incoming, clerk: Clerk, press: Press) -> list[Action]:
    """Queue it once however often it is tapped (the draft is taken in the transaction that
    queues it). The confirm message becomes the live status message, edited only by the status
    loop: a second writer's edit could land after the loop's and leave an old count shown."""
    broadcast_id = await queue_draft(
        ctx.writer(),
        clerk.telegram_id,
        SEGMENT_STEP,
        _drafted,
        actor(clerk.telegram_id),
        ctx.clock(),
    )
    if broadcast_id is None:
        return [Answer(callback_id(event), render("refusal", clerk.locale, reason="already_done"))]
    await set_broadcast_status_message(ctx.writer(), broadcast_id, event.chat_id, message_id(event))
    await status_shown(ctx.writer(), broadcast_id, clerk.locale, "")  # nothing shown yet
    return [Answer(callback_id(event), render("broadcast_queued", clerk.locale, id=broadcast_id))]


async def cancel_draft_pressed(
    ctx: Context, event: Incoming, clerk: Clerk, press: Press
) -> list[Action]:
    """Drop the draft; nothing is sent."""
    await forget_step(ctx.writer(), clerk.telegram_id)
    return [Edit(event.chat_id, message_id(event), render("cancelled", clerk.locale))]


async def list_broadcasts(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """Recent broadcasts with their numbers; a running one has a cancel button."""
    broadcasts = await recent_broadcasts(ctx.reader(), limit=10)
    rows = tuple(
        (button(ctx, clerk.telegram_id, f"⏹ #{b.id}", STOP, str(b.id)),)
        for b, _ in broadcasts
        if b.state == "running"
    )
    return [
        Send(
            event.chat_id,
            render(
                "broadcasts", clerk.locale, broadcasts=broadcasts, zone=ctx.program.info.timezone
            ),
            buttons=rows,
        )
    ]


async def stop_pressed(ctx: Context, event: Incoming, clerk: Clerk, press: Press) -> list[Action]:
    """Cancel a running broadcast: what is not sent yet will not be."""
    if len(press.args) != 1 or not press.args[0].isdigit():
        return refused(event, clerk.locale, "gone")
    stopped = await cancel_broadcast(ctx.writer(), int(press.args[0]), ctx.clock())
    return [
        Answer(
            callback_id(event),
            render("broadcast_stopped", clerk.locale, id=press.args[0], stopped=stopped),
        )
    ]


def _drafted(draft: Mapping[str, str]) -> tuple[BroadcastContent, Segment]:
    """What a draft will send, and to whom."""
    return content_of(draft), segment_of(draft)


def content_of(draft: Mapping[str, str]) -> BroadcastContent:
    """The broadcast a draft describes (its button target decides the button's kind)."""
    target = draft.get("button_target") or None
    url = target if target and ":" in target and not target.startswith("reward:") else None
    bonus = _bonus(target) if target and target.isascii() and target.isdigit() else None
    reward = target.removeprefix("reward:") if target and target.startswith("reward:") else None
    if target and not (url or bonus or reward):
        raise InvalidRequest("button: after | put a link, a number of points or reward:<id>")
    return BroadcastContent(
        text=draft["html"],
        photo=draft.get("photo") or None,
        button_text=draft.get("button_text") or None,
        button_url=url,
        bonus_points=bonus,
        reward_id=reward,
    )


def _bonus(typed: str) -> int:
    """The bonus points of a gift button, within what a broadcast may give."""
    try:
        return whole_number(typed, minimum=1, maximum=MAX_BONUS)
    except TypedNumberError as refusal:
        raise InvalidRequest(f"button.bonus_points: 1 to {MAX_BONUS}") from refusal


def segment_of(draft: Mapping[str, str]) -> Segment:
    """The segment chosen so far (everyone at first)."""
    return Segment.from_dict(json.loads(draft.get("segment") or "{}"))


def with_condition(segment: Segment, words: list[str], known: dict[str, list[str]]) -> Segment:
    """`segment` with one typed condition added (`everyone` clears them all).

    A tier or language must be one of the program's (`known`), matched ignoring case.
    """
    if [word.lower() for word in words] == ["everyone"]:
        return Segment()
    if len(words) != 2 or words[0].lower() not in CONDITIONS:
        raise InvalidRequest("a condition is a word and a value")
    name, typed = words[0].lower(), words[1]
    field = CONDITIONS[name]
    value: object = typed.lower()
    if field in NUMERIC:  # TypedNumberError: the reply says which numbers fit
        value = whole_number(typed, minimum=0, maximum=NUMERIC[field])
    if name in known and field != "category":
        matches = [v for v in known[name] if v.lower() == typed.lower()]
        if not matches:
            raise InvalidRequest(f"{name} is one of {', '.join(known[name])}")
        value = matches[0]
    return Segment.from_dict({**segment.as_dict(), field: value})


def _refusal(event: Incoming, clerk: Clerk, detail: str) -> Send:
    """Why the draft cannot be sent, quoting at most SHOWN_DETAIL characters of it (a
    refused part may be most of a 4096-character message, and the reply must stay short)."""
    shown = detail if len(detail) <= SHOWN_DETAIL else detail[: SHOWN_DETAIL - 1] + "…"
    return Send(event.chat_id, render("broadcast_refusal", clerk.locale, detail=shown))


def _choices(ctx: Context) -> dict[str, tuple[str, list[str]]]:
    """The condition buttons: tiers, languages, categories (by position in these lists)."""
    program = ctx.program
    return {
        "t": ("tier", [tier.name for tier in program.tiers.levels]),
        "l": ("language", list(program.info.locales)),
        "c": ("category", [rule.category for rule in program.earning.categories]),
    }


def _shown(ctx: Context, clerk: Clerk, key: str, value: str) -> str:
    """A condition button's text: a language's own name, a tier's title in the admin's
    language, a category as it is."""
    if key == "l":
        return language_name(value)
    if key == "t":
        tier = ctx.program.tiers.get(value)
        return localized(tier.name, tier.titles, clerk.locale)
    return value


def _known(ctx: Context) -> dict[str, list[str]]:
    return {name: values for name, values in _choices(ctx).values()}


async def _to_segment(
    ctx: Context, event: Incoming, clerk: Clerk, draft: dict[str, str]
) -> list[Action]:
    return await _show_segment(ctx, event, clerk, {**draft, "segment": "{}"})


async def _show_segment(
    ctx: Context, event: Incoming, clerk: Clerk, draft: dict[str, str]
) -> list[Action]:
    """Remember the draft and show the segment with its member count and the buttons."""
    await remember_step(ctx.writer(), clerk.telegram_id, SEGMENT_STEP, draft, ctx.clock())
    segment = segment_of(draft)
    total = await count_segment(ctx.reader(), segment, ctx.clock())
    names = labels(clerk.locale)
    rows: list[tuple[Button, ...]] = []
    for key, (_, values) in _choices(ctx).items():
        rows.append(
            tuple(
                button(
                    ctx,
                    clerk.telegram_id,
                    _shown(ctx, clerk, key, value),
                    CONDITION,
                    key,
                    str(index),
                )
                for index, value in enumerate(values)
            )
        )
    rows.append(
        (
            button(ctx, clerk.telegram_id, names["everyone"], CONDITION, "e"),
            button(ctx, clerk.telegram_id, names["preview"], PREVIEW),
            button(ctx, clerk.telegram_id, names["cancel"], DROP),
        )
    )
    return [
        Send(
            event.chat_id,
            render(
                "broadcast_segment", clerk.locale, program=ctx.program, segment=segment, total=total
            ),
            buttons=tuple(r for r in rows if r),
        )
    ]


async def _draft(ctx: Context, clerk: Clerk, step: str) -> ChatState | None:
    """The admin's draft when it is at `step` (a stale button finds none)."""
    async with ctx.reader() as uow:
        state = await uow.conversations.get(clerk.telegram_id)
    return state if state is not None and state.step == step else None


def _dump(segment: Segment) -> str:
    return json.dumps(segment.as_dict())


FEATURE = Feature(
    "broadcast",
    "admin",
    commands={"broadcast": start_broadcast, "broadcasts": list_broadcasts},
    buttons={
        NO_BUTTON: no_button_pressed,
        CONDITION: condition_pressed,
        PREVIEW: preview_pressed,
        SEND: send_pressed,
        DROP: cancel_draft_pressed,
        STOP: stop_pressed,
    },
    steps={MESSAGE_STEP: message_step, BUTTON_STEP: button_step, SEGMENT_STEP: segment_step},
)
