"""Joining, profile settings and forgetting a member."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain.codes import MEMBER_CODE_LENGTH, new_code, normalize_code
from domain.contact import check_timezone, normalize_phone
from domain.errors import DuplicateKey, NotFound
from domain.ledger import EntryKind, add_months
from domain.locales import match_locale
from domain.models import Member, NewMember
from domain.ports import Posting, UnitOfWork
from domain.program import Program
from domain.services.forgetting import remember_forgotten, returning_person
from domain.services.referrals import ReferralReward, qualify_referral

ReferralOutcome = Literal["attributed", "unknown_code", "own_code", "already_member", "returning"]
JOIN_ATTEMPTS = 3


@dataclass(frozen=True)
class JoinResult:
    """The member, whether they were new, the points they got and what became of a code;
    `returning` when the new member's Telegram account was a forgotten member's before."""

    member: Member
    created: bool
    bonus: int
    referral: ReferralOutcome | None
    referrer_reward: ReferralReward | None = None
    returning: bool = False


def pick_locale(program: Program, language_code: str | None) -> str:
    """The program locale closest to a Telegram language code ('ES', 'es-MX' -> 'es')."""
    return match_locale(program.info.locales, language_code)


async def join(
    uow: UnitOfWork,
    program: Program,
    *,
    telegram_id: int,
    first_name: str | None,
    language_code: str | None,
    now: datetime,
    referral_code: str | None = None,
) -> JoinResult:
    """Join the program, or find the member who already did (safe to call twice at once)."""
    for _ in range(JOIN_ATTEMPTS):
        try:
            async with uow:
                return await _join_once(
                    uow, program, telegram_id, first_name, language_code, now, referral_code
                )
        except DuplicateKey:
            continue  # a concurrent /start created the member first: read it next time
    raise RuntimeError(f"join of telegram user {telegram_id} kept colliding")


async def _join_once(
    uow: UnitOfWork,
    program: Program,
    telegram_id: int,
    first_name: str | None,
    language_code: str | None,
    now: datetime,
    referral_code: str | None,
) -> JoinResult:
    existing = await uow.members.by_telegram_id(telegram_id)
    if existing is not None:
        outcome: ReferralOutcome | None = "already_member" if referral_code else None
        if referral_code and normalize_code(referral_code) == existing.code:
            outcome = "own_code"
        return JoinResult(existing, False, 0, outcome)
    # a person who was forgotten gets no second welcome: no signup or invitee bonus, and
    # no referrer (who would be rewarded again for them)
    returning = await returning_person(uow, telegram_id) is not None
    referrer, outcome = None, None
    if referral_code:
        found = await uow.members.by_code(normalize_code(referral_code))
        if found is None:
            outcome = "unknown_code"
        elif returning:
            outcome = "returning"
        else:
            referrer, outcome = found, "attributed"
    member = await uow.members.add(
        NewMember(
            code=await _unused_code(uow),
            telegram_id=telegram_id,
            first_name=first_name,
            locale=pick_locale(program, language_code),
            timezone=None,
            joined_at=now,
            referrer_id=referrer.id if referrer else None,
            tier=program.tiers.levels[0].name,
        )
    )
    expires = add_months(now, program.expiry.months)
    bonus = 0 if returning else program.info.signup_bonus
    if bonus:
        await uow.ledger.credit(Posting(member.id, EntryKind.SIGNUP, now), bonus, expires)
    reward = None
    if referrer is not None:
        await uow.referrals.add(referrer.id, member.id, now)
        await uow.outbox.add(
            referrer.id, "friend_joined", {"qualify_on": program.referrals.qualify_on}, now
        )
        invitee_bonus = program.referrals.invitee_bonus
        if invitee_bonus:
            posting = Posting(
                member.id, EntryKind.REFERRAL_INVITEE, now, reference=f"referrer:{referrer.id}"
            )
            await uow.ledger.credit(posting, invitee_bonus, expires)
            bonus += invitee_bonus
        if program.referrals.qualify_on == "join":
            reward = await qualify_referral(uow, program, member.id, now)
    return JoinResult(member, True, bonus, outcome, reward, returning)


async def _unused_code(uow: UnitOfWork) -> str:
    while True:
        code = new_code(MEMBER_CODE_LENGTH)
        if not await uow.members.code_exists(code):
            return code


async def update_settings(uow: UnitOfWork, member_id: int, **fields: object) -> Member:
    """Change a member's language, timezone, phone, offers opt-in or reachability."""
    if fields.get("phone") is not None:
        fields["phone"] = normalize_phone(str(fields["phone"]))
    if fields.get("timezone") is not None:
        fields["timezone"] = check_timezone(str(fields["timezone"]))
    async with uow:
        await uow.members.update_profile(member_id, **fields)
        member = await uow.members.get(member_id)
        if member is None:
            raise NotFound("member", member_id)
        return member


async def forget(uow: UnitOfWork, member_id: int, now: datetime) -> int:
    """Erase a member's personal data; their points are forfeited, the ledger stays anonymous.

    A keyed hash of their Telegram id is kept (see domain.services.forgetting), so joining
    again gives no second welcome. Returns the points forfeited.
    """
    async with uow:
        member = await uow.members.lock(member_id)
        if member is None or member.forgotten_at is not None:
            raise NotFound("member", member_id)
        balance = await uow.ledger.balance(member_id)
        if balance:
            await uow.ledger.debit(Posting(member_id, EntryKind.FORFEIT, now), balance)
        await remember_forgotten(uow, member, now)
        await uow.members.erase(member_id, now)
        await uow.surveys.erase_comments(member_id)  # free text may say who they are
        await uow.birthdays.erase(member_id)
        await uow.leaderboard.set_named(member_id, False, now)
        return balance


async def set_reachable(uow: UnitOfWork, telegram_id: int, reachable: bool) -> None:
    """Record that a person blocked the bot or came back; people who never joined are ignored."""
    async with uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is not None:
            await uow.members.update_profile(member.id, reachable=reachable)


async def member_locales(uow: UnitOfWork, telegram_ids: Sequence[int]) -> dict[int, str]:
    """The language of each of these people who joined (a staff member's menu follows it)."""
    async with uow:
        found = [await uow.members.by_telegram_id(telegram_id) for telegram_id in telegram_ids]
    return {m.telegram_id: m.locale for m in found if m is not None and m.telegram_id}


async def member_by_code(uow: UnitOfWork, code: str) -> Member:
    """The member with this code as a person typed it; NotFound otherwise."""
    async with uow:
        member = await uow.members.by_code(normalize_code(code))
    if member is None:
        raise NotFound("member", code)
    return member
