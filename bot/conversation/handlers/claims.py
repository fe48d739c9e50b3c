"""Claims awaiting approval, for admins: a link action with `approval = true` is sent to
every admin with Approve and Reject buttons when a member taps Done; `/claims` lists the
ones still waiting. The first decision counts (one conditional update): a second tap, or
another admin's, is told how it was decided."""

from __future__ import annotations

from bot.conversation.actions import Action, Answer, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from domain.errors import NotFound
from domain.models import Member
from domain.program import Action as ProgramAction
from domain.services.actions import decide_claim, pending_claims
from domain.services.staff import actor
from messages.render import render

APPROVE = "ca"  # button action: approve a claim (claim id)
REJECT = "cr"  # button action: reject a claim (claim id)
CLAIMS_SHOWN = 10  # pending claims /claims lists, oldest first


def claim_notice(
    ctx: Context, admin_id: int, locale: str, claim_id: int, member: Member, action: ProgramAction
) -> Send:
    """The message asking admin `admin_id` to decide a claim, with its two buttons."""
    names = labels(locale)
    row = (
        button(ctx, admin_id, names["approve"], APPROVE, str(claim_id)),
        button(ctx, admin_id, names["reject"], REJECT, str(claim_id)),
    )
    return Send(
        admin_id, render("claim_notice", locale, member=member, action=action), buttons=(row,)
    )


async def show_claims(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """/claims: each claim still waiting, oldest first, with its buttons (or that none is)."""
    waiting = await pending_claims(ctx.reader(), CLAIMS_SHOWN)
    notices: list[Action] = [
        claim_notice(ctx, event.person.id, clerk.locale, claim.id, member, action)
        for claim, member in waiting
        if (action := ctx.program.action(claim.action_id))
    ]
    return notices or [Send(event.chat_id, render("claims_none", clerk.locale))]


async def decide(ctx: Context, event: Incoming, clerk: Clerk, press: Press) -> list[Action]:
    """Approve or reject a claim once; the message then says who decided what."""
    if not press.args or not press.args[0].isdigit():
        return refused(event, clerk.locale, "gone")
    try:
        decision = await decide_claim(
            ctx.writer(),
            ctx.program,
            claim_id=int(press.args[0]),
            approve=press.action == APPROVE,
            actor=actor(event.person.id),
            now=ctx.clock(),
        )
    except NotFound:
        return refused(event, clerk.locale, "gone")
    text = render("claim_decided", clerk.locale, decision=decision, program=ctx.program)
    edit = Edit(event.chat_id, message_id(event), text)
    if decision.new:
        return [edit]
    before = render("claim_decided_before", clerk.locale, status=decision.status)
    return [Answer(callback_id(event), before, alert=True), edit]


FEATURE = Feature(
    "claims",
    "admin",
    commands={"claims": show_claims},
    buttons={APPROVE: decide, REJECT: decide},
)
