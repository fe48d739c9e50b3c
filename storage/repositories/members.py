"""Members by id, Telegram id, member code and phone; forgotten people by a keyed hash."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, or_, select, update

from domain.models import ForgottenPerson, Member, NewMember
from domain.ports import Standing
from domain.receipts import MemberKey
from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import AccountRow, ForgottenMemberRow, InstallationKeyRow, MemberRow

MEMBERS = MemberRow.c
ADVANCE = (
    update(MemberRow)
    .where(MEMBERS.id == bindparam("member"))
    .values(
        tier=bindparam("new_tier"),
        tier_below_since=bindparam("below_since"),
        first_purchase_at=bindparam("first_purchase"),
    )
)
NAMED = (  # members by any of their keys, in id order
    or_(
        MEMBERS.telegram_id.in_(bindparam("telegram_ids", expanding=True)),
        MEMBERS.code.in_(bindparam("codes", expanding=True)),
        MEMBERS.phone.in_(bindparam("phones", expanding=True)),
    ),
)
NAMED_MEMBERS = select(MemberRow).where(*NAMED).order_by(MEMBERS.id)
FORGET_KEY_NAME = "forgotten_members"
FORGET_KEY = select(InstallationKeyRow.c.secret).where(InstallationKeyRow.c.name == FORGET_KEY_NAME)
MEMBER_BY = {  # one member by a unique key; built once, not per read
    key: select(MemberRow).where(MEMBERS[key] == bindparam("value"))
    for key in ("id", "telegram_id", "code")
}

PROFILE_FIELDS = frozenset(
    {
        "first_name",
        "phone",
        "locale",
        "timezone",
        "marketing_opt_in",
        "reminders_opt_in",
        "surveys_opt_in",
        "reachable",
    }
)


def to_member(row: Row[Any]) -> Member:
    """A row as the domain's record."""
    return Member(
        id=row.id,
        code=row.code,
        telegram_id=row.telegram_id,
        first_name=row.first_name,
        phone=row.phone,
        locale=row.locale,
        timezone=row.timezone,
        marketing_opt_in=row.marketing_opt_in,
        reachable=row.reachable,
        joined_at=row.joined_at,
        referrer_id=row.referrer_id,
        tier=row.tier,
        tier_below_since=row.tier_below_since,
        first_purchase_at=row.first_purchase_at,
        forgotten_at=row.forgotten_at,
        reminders_opt_in=row.reminders_opt_in,
        surveys_opt_in=row.surveys_opt_in,
    )


def named_params(keys: Collection[MemberKey]) -> dict[str, list[int | str]]:
    """The parameters of NAMED for these keys."""
    params: dict[str, list[int | str]] = {"telegram_ids": [], "codes": [], "phones": []}
    for kind, value in keys:
        params[NAMED_PARAMS[kind]].append(value)
    return params


NAMED_PARAMS = {"telegram_id": "telegram_ids", "member_code": "codes", "phone": "phones"}


class SqlMembers:
    """Implements `domain.ports.MemberRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _one(self, key: str, value: object, lock: bool = False) -> Member | None:
        """The member whose `key` column equals `value`, through a statement built once."""
        statement = MEMBER_BY[key].with_for_update() if lock else MEMBER_BY[key]
        row = (await self.conn.execute(statement, {"value": value})).first()
        return None if row is None else to_member(row)

    async def add(self, member: NewMember) -> Member:
        """Store a new member and open their account at zero."""
        member_id = (
            await self.conn.execute(
                insert(MemberRow)
                .values(
                    code=member.code,
                    telegram_id=member.telegram_id,
                    first_name=member.first_name,
                    phone=member.phone,
                    locale=member.locale,
                    timezone=member.timezone,
                    marketing_opt_in=member.marketing_opt_in,
                    reachable=True,
                    joined_at=member.joined_at,
                    referrer_id=member.referrer_id,
                    tier=member.tier,
                )
                .returning(MemberRow.c.id)
            )
        ).scalar_one()
        await self.conn.execute(insert(AccountRow).values(member_id=member_id, balance=0))
        stored = await self.get(member_id)
        assert stored is not None
        return stored

    async def get(self, member_id: int) -> Member | None:
        return await self._one("id", member_id)

    async def lock(self, member_id: int) -> Member | None:
        """Read a member and hold their row until commit (SQLite's write lock already does)."""
        return await self._one("id", member_id, lock=True)

    async def by_telegram_id(self, telegram_id: int, lock: bool = False) -> Member | None:
        return await self._one("telegram_id", telegram_id, lock=lock)

    async def by_code(self, code: str, lock: bool = False) -> Member | None:
        return await self._one("code", code, lock=lock)

    async def named(self, keys: Collection[MemberKey]) -> Sequence[Member]:
        """The members any of `keys` names, in id order."""
        rows = await self.conn.execute(NAMED_MEMBERS, named_params(keys))
        return [to_member(row) for row in rows.all()]

    async def search(self, name: str, limit: int) -> Sequence[Member]:
        """Current members whose first name contains `name` (any case), newest first."""
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = (
            select(MemberRow)
            .where(
                MEMBERS.first_name.ilike(pattern, escape="\\"),
                MEMBERS.forgotten_at.is_(None),
                MEMBERS.code.is_not(None),
            )
            .order_by(MEMBERS.id.desc())
            .limit(limit)
        )
        return [to_member(row) for row in (await self.conn.execute(statement)).all()]

    async def code_exists(self, code: str) -> bool:
        found = await self.conn.execute(select(MemberRow.c.id).where(MemberRow.c.code == code))
        return found.first() is not None

    async def set_tier(self, member_id: int, tier: str, below_since: datetime | None) -> None:
        await self._update(member_id, tier=tier, tier_below_since=below_since)

    async def update_profile(self, member_id: int, **fields: object) -> None:
        """Change personal settings; only the fields a member may set are accepted."""
        unknown = set(fields) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        await self._update(member_id, **fields)

    async def erase(self, member_id: int, at: datetime) -> None:
        """Drop every personal field; the row stays so the ledger keeps its anonymous owner."""
        await self._update(
            member_id,
            code=None,
            telegram_id=None,
            first_name=None,
            phone=None,
            timezone=None,
            marketing_opt_in=False,
            reminders_opt_in=False,
            surveys_opt_in=False,
            reachable=False,
            forgotten_at=at,
        )

    async def ids_above_tier(self, lowest_tier: str) -> Sequence[int]:
        statement = select(MemberRow.c.id).where(
            MemberRow.c.tier != lowest_tier, MemberRow.c.forgotten_at.is_(None)
        )
        return list((await self.conn.execute(statement)).scalars())

    async def advance(self, standings: Sequence[Standing]) -> None:
        """Store tiers, grace and first purchases as receipts left them (one executemany)."""
        if standings:
            await self.conn.execute(
                ADVANCE,
                [
                    {
                        "member": s.member_id,
                        "new_tier": s.tier,
                        "below_since": s.tier_below_since,
                        "first_purchase": s.first_purchase_at,
                    }
                    for s in standings
                ],
            )

    async def forget_key(self) -> bytes | None:
        """The installation's key for hashing forgotten Telegram ids; None until first made."""
        secret = (await self.conn.execute(FORGET_KEY)).scalar_one_or_none()
        return None if secret is None else bytes.fromhex(secret)

    async def keep_forget_key(self, key: bytes, at: datetime) -> bytes:
        """Store `key` unless a key was stored first (by a concurrent forget); the one kept."""
        await self.conn.execute(
            insert_ignoring_conflict(
                self.conn.dialect.name,
                InstallationKeyRow,
                name=FORGET_KEY_NAME,
                secret=key.hex(),
                created_at=at,
            )
        )
        stored = await self.forget_key()
        assert stored is not None
        return stored

    async def forgotten(self, telegram_hash: str) -> ForgottenPerson | None:
        row = (
            await self.conn.execute(
                select(ForgottenMemberRow).where(
                    ForgottenMemberRow.c.telegram_hash == telegram_hash
                )
            )
        ).first()
        return (
            None
            if row is None
            else ForgottenPerson(row.telegram_hash, row.forgotten_at, row.referrals_rewarded)
        )

    async def remember_forgotten(self, person: ForgottenPerson) -> None:
        """Store or update a forgotten person (their account's row is locked by the caller)."""
        values = {
            "forgotten_at": person.forgotten_at,
            "referrals_rewarded": person.referrals_rewarded,
        }
        updated = await self.conn.execute(
            update(ForgottenMemberRow)
            .where(ForgottenMemberRow.c.telegram_hash == person.telegram_hash)
            .values(**values)
        )
        if not updated.rowcount:
            await self.conn.execute(
                insert(ForgottenMemberRow).values(telegram_hash=person.telegram_hash, **values)
            )

    async def _update(self, member_id: int, **values: object) -> None:
        await self.conn.execute(
            update(MemberRow).where(MemberRow.c.id == member_id).values(**values)
        )
