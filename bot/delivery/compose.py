"""An outbox row as the message to send: a rendered template, or a broadcast's content."""

from __future__ import annotations

from bot.conversation.actions import Button, Send
from bot.conversation.buttons import Signer, signed_button
from domain.broadcasts import BroadcastContent
from domain.models import Notification
from messages.render import render


def broadcast_message(chat_id: int, content: BroadcastContent, paid: bool,
                      gift: tuple[Signer, int] | None = None) -> Send:
    """A broadcast as sent: its HTML text (a caption with a photo) and its button.

    A gift button (bonus or voucher) carries the broadcast id signed for this recipient,
    from `gift` = (signer, broadcast id); without it the button is left out.
    """
    buttons: tuple[tuple[Button, ...], ...] = ()
    if content.button_text and content.button_url:
        buttons = ((Button(content.button_text, url=content.button_url),),)
    elif content.button_text and gift is not None:
        sign, broadcast_id = gift
        buttons = ((signed_button(sign, chat_id, content.button_text, "bg",
                                  str(broadcast_id)),),)
    return Send(chat_id, content.text, buttons=buttons, photo=content.photo, paid=paid)


def notification_message(note: Notification, chat_id: int, paid: bool) -> Send:
    """A notification rendered in the member's language."""
    return Send(chat_id, render(note.template, note.locale, **note.context), paid=paid)
