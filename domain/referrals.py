"""Referral links: the `/start` payload that carries a member code, and milestone rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.codes import MEMBER_CODE_LENGTH, is_code, normalize_code
from domain.program import Milestone, ReferralRules

PAYLOAD_PREFIX = "r-"
_PAYLOAD_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def referral_payload(member_code: str) -> str:
    """The `/start` payload of a member's personal link (A-Za-z0-9_- only, under 64)."""
    return PAYLOAD_PREFIX + member_code


def code_from_payload(payload: str) -> str | None:
    """The member code a payload carries, or None when it is not a referral payload."""
    if not _PAYLOAD_SHAPE.match(payload) or not payload.startswith(PAYLOAD_PREFIX):
        return None
    code = normalize_code(payload.removeprefix(PAYLOAD_PREFIX))
    return code if is_code(code, MEMBER_CODE_LENGTH) else None


def local_day(moment: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The start and end (UTC-aware) of the program-local day holding `moment`."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1)).replace(tzinfo=zone)
    return start, end


def next_milestone(rules: ReferralRules, rewarded: int) -> Milestone | None:
    """The first milestone not yet reached with `rewarded` qualified friends."""
    return next((m for m in rules.milestones if m.count > rewarded), None)
