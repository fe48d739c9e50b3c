"""An outbox row as the message to send: a rendered template, or a broadcast's content."""

from __future__ import annotations

from bot.conversation.actions import Button, Send
from bot.conversation.buttons import Signer, signed_button
from bot.conversation.handlers.gift import GIFT
from bot.conversation.handlers.survey import question_buttons
from domain.broadcasts import BroadcastContent
from domain.models import Notification
from domain.program import Program
from domain.services.surveys import TEMPLATE as SURVEY_TEMPLATE
from messages.render import render


def broadcast_message(
    chat_id: int, content: BroadcastContent, paid: bool, gift: tuple[Signer, int] | None = None
) -> Send:
    """A broadcast as sent: its HTML text (a caption with a photo) and its button.

    A gift button (bonus or voucher) carries the broadcast id signed for this recipient,
    from `gift` = (signer, broadcast id); without it the button is left out.
    """
    buttons: tuple[tuple[Button, ...], ...] = ()
    if content.button_text and content.button_url:
        buttons = ((Button(content.button_text, url=content.button_url),),)
    elif content.button_text and gift is not None:
        sign, broadcast_id = gift
        buttons = ((signed_button(sign, chat_id, content.button_text, GIFT, str(broadcast_id)),),)
    return Send(chat_id, content.text, buttons=buttons, photo=content.photo, paid=paid)


def notification_message(
    note: Notification,
    chat_id: int,
    paid: bool,
    sign: Signer | None = None,
    program: Program | None = None,
) -> Send:
    """A notification rendered in the member's language, the program's titles too (tiers,
    rewards, actions: without `program`, their keys); a survey's question carries its
    score buttons signed for this member (without `sign`, none)."""
    buttons: tuple[tuple[Button, ...], ...] = ()
    if note.template == SURVEY_TEMPLATE and sign is not None:
        buttons = question_buttons(sign, chat_id, note.context)
    text = render(note.template, note.locale, **{"program": program, **note.context})
    return Send(chat_id, text, buttons=buttons, paid=paid)
