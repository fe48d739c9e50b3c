"""The scheduler's promotions job: a promotion with `announce = true` is told to its members
once, when its first stretch opens, through the outbox (quiet hours, opt-out respected).

Program time zone America/New_York (EST, UTC-5 in early March 2026); quiet hours 21:00 to
09:00 on each member's own clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.scheduler import loyalty_jobs
from domain.program import Promotion
from domain.services.members import update_settings
from domain.services.promotions import announce_promotions
from messages.render import render
from storage.tables import OutboxRow, PromotionAnnouncementRow
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import new_member

JOINED = datetime(2026, 2, 1, tzinfo=UTC)
HAPPY = Promotion(  # Fridays 16:00-18:00 from Friday 6 March: first opens 21:00 UTC that day
    id="happy-hour",
    title="Happy hour",
    titles=(("en", "Happy hour"), ("es", "Hora feliz")),
    starts=datetime(2026, 3, 6),
    ends=datetime(2026, 4, 1),
    weekdays=(4,),
    hours=(time(16), time(18)),
    categories=("coffee",),
    multiplier=Decimal(2),
    announce=True,
)
FLASH = Promotion(  # Friday 6 March 20:45-22:00 only (01:45-03:00 UTC on the 7th)
    id="flash",
    title="Flash sale",
    starts=datetime(2026, 3, 6, 20, 45),
    ends=datetime(2026, 3, 6, 22),
    bonus=25,
    announce=True,
)
QUIET = Promotion(  # not announced
    id="quiet", title="Quiet", starts=datetime(2026, 3, 1), ends=datetime(2026, 4, 1), bonus=5
)


async def members(database, program):
    """Ann (New York), Ben (opted out of offers), Kei (Tokyo), Lou (London)."""
    uow = SqlUnitOfWork(database)
    ann, ben, kei, lou = [await new_member(uow, program, n, now=JOINED) for n in (1, 2, 3, 4)]
    await update_settings(SqlUnitOfWork(database), ben.id, marketing_opt_in=False)
    await update_settings(SqlUnitOfWork(database), kei.id, timezone="Asia/Tokyo")
    await update_settings(SqlUnitOfWork(database), lou.id, timezone="Europe/London")
    return ann, ben, kei, lou


async def queued(database, template="promotion_started"):
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(OutboxRow.c.member_id, OutboxRow.c.next_attempt_at, OutboxRow.c.context)
            .where(OutboxRow.c.template == template)
            .order_by(OutboxRow.c.id)
        )
        return [(r.member_id, r.next_attempt_at, r.context) for r in rows]


async def test_a_promotion_is_announced_once_when_its_first_stretch_opens(database, program):
    program = replace(program, promotions=(QUIET, HAPPY))
    ann, _ben, kei, lou = await members(database, program)
    [job] = [job for job in loyalty_jobs(database, program) if job.name == "promotions"]
    assert job.every == timedelta(minutes=5)
    start = datetime(2026, 3, 6, 20, 50, tzinfo=UTC)  # 15:50 EST
    news = [job.news(await job.run(start + timedelta(minutes=5 * run))) for run in range(5)]
    # 16:00 EST is the third run; the later runs find it announced
    assert news == [None, None, "promotions announced: happy-hour (3 messages)", None, None]
    at_four = datetime(2026, 3, 6, 21, tzinfo=UTC)
    assert await queued(database) == [
        (ann.id, None, CONTEXT),  # 16:00 in New York: at once
        (kei.id, datetime(2026, 3, 7, 0, tzinfo=UTC), CONTEXT),  # 06:00 in Tokyo: at 09:00
        (lou.id, datetime(2026, 3, 7, 9, tzinfo=UTC), CONTEXT),  # 21:00 in London: at 09:00
    ]  # and nothing for Ben, who turned offers off
    text = render("promotion_started", "es", program=program, **CONTEXT)
    assert text == (
        "🎉 <b>Hora feliz</b> ya empezó: ×2 puntos en coffee, hasta el 31 mar 2026. "
        "/offers muestra cuándo está activa."
    )
    async with database.reader.connect() as conn:
        claim = (await conn.execute(select(PromotionAnnouncementRow))).one()
    assert (claim.promotion_id, claim.starts, claim.announced_at, claim.members) == (
        "happy-hour",
        "2026-03-06T00:00",
        at_four,
        3,
    )


CONTEXT = {
    "promotion": "happy-hour",
    "gives": {
        "multiplier": "2",
        "bonus": 0,
        "categories": ["coffee"],
        "skus": [],
        "min_spend": None,
    },
    "last_day": "2026-03-31",
}


async def test_a_message_that_quiet_hours_would_bring_after_the_end_is_left_out(database, program):
    program = replace(program, promotions=(FLASH,))
    ann, _ben, kei, _lou = await members(database, program)
    opens = datetime(2026, 3, 7, 1, 45, tzinfo=UTC)  # 20:45 EST
    run = await announce_promotions(SqlUnitOfWork(database), program, opens)
    assert (run.promotions, run.messages) == (("flash",), 2)
    # Ann at 20:45 and Kei at 10:45 in Tokyo at once; Lou (01:45 in London) would wait until
    # 09:00 UTC, long after the sale ends at 03:00 UTC
    assert [(m, due) for m, due, _ in await queued(database)] == [(ann.id, None), (kei.id, None)]
    over = await announce_promotions(SqlUnitOfWork(database), program, opens + timedelta(hours=2))
    assert over.promotions == ()


async def test_simultaneous_runs_announce_once(database, program):
    program = replace(program, promotions=(HAPPY,))
    await members(database, program)
    at_four = datetime(2026, 3, 6, 21, 1, tzinfo=UTC)
    runs = await asyncio.gather(
        *(announce_promotions(SqlUnitOfWork(database), program, at_four) for _ in range(3))
    )
    assert sorted(run.messages for run in runs) == [0, 0, 3]
    assert len(await queued(database)) == 3


async def test_a_promotion_over_before_the_first_run_is_not_announced(database, program):
    program = replace(program, promotions=(FLASH,))
    await members(database, program)
    run = await announce_promotions(
        SqlUnitOfWork(database),
        program,
        datetime(2026, 3, 7, 3, tzinfo=UTC),  # 22:00 EST
    )
    assert run.promotions == ()
    assert await queued(database) == []
