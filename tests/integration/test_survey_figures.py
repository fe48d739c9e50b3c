"""The satisfaction figures read from the database on hand-made answers, worked out by hand,
on SQLite and PostgreSQL: the period [since, until), per store, answers only counted once."""

from __future__ import annotations

from datetime import date, timedelta

from domain.metrics import as_json
from domain.services.metrics import program_metrics
from domain.services.surveys import satisfaction
from domain.surveys import NewSurveySend, Score
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.delivery.helpers import add_members

SINCE, UNTIL = NOW, NOW + timedelta(days=30)


async def answered(
    database, member_id: int, reference: str, store: str | None, at, **scores: int
) -> int:
    """A survey sent to a member and answered at `at` with these scores."""
    async with SqlUnitOfWork(database) as uow:
        send_id = await uow.surveys.add_send(
            NewSurveySend("s", member_id, "purchase", reference, store, at, at)
        )
        assert send_id is not None
        for question, score in scores.items():
            assert await uow.surveys.add_answer(send_id, question, score, at)
    return send_id


async def test_figures_over_a_period_per_store(database):
    ann, bob, cy, dee, eve = await add_members(database, [1, 2, 3, 4, 5])
    inside = NOW + timedelta(days=1)
    await answered(database, ann, "receipt:1", "Main", inside, csat=5, nps=10)
    await answered(database, bob, "receipt:2", "Main", inside, csat=4, nps=9)
    await answered(database, cy, "receipt:3", "Harbour", inside, csat=3, nps=7)
    await answered(database, dee, "receipt:4", None, inside, csat=1, ces=5, nps=0)
    await answered(database, eve, "receipt:5", None, NOW, ces=2)  # at `since`: counts
    await answered(database, ann, "receipt:6", "Main", UNTIL, csat=1)  # at `until`: not
    await answered(database, bob, "receipt:7", "Main", NOW - timedelta(seconds=1), nps=0)
    figures = await satisfaction(SqlUnitOfWork(database, read_only=True), SINCE, UNTIL)
    # csat 5, 4, 3, 1: 2 of 4 positive = 50.0
    assert figures.csat == Score(50.0, 4)
    # ces 5, 2: 1 of 2 = 50.0
    assert figures.ces == Score(50.0, 2)
    # nps 10, 9, 7, 0: promoters 2/4 = 50%, detractors 1/4 = 25% -> 25.0
    assert figures.nps == Score(25.0, 4)
    assert sorted(figures.by_store) == ["Harbour", "Main"]
    main, harbour = figures.by_store["Main"], figures.by_store["Harbour"]
    assert (main.csat, main.ces, main.nps) == (Score(100.0, 2), Score(None, 0), Score(100.0, 2))
    assert (harbour.csat, harbour.nps) == (Score(0.0, 1), Score(0.0, 1))


async def test_an_empty_period_has_no_figures(database):
    [ann] = await add_members(database, [1])
    await answered(database, ann, "receipt:1", "Main", NOW - timedelta(days=1), csat=5)
    figures = await satisfaction(SqlUnitOfWork(database, read_only=True), SINCE, UNTIL)
    assert (figures.csat, figures.ces, figures.nps) == (Score(None, 0),) * 3
    assert figures.by_store == {}


async def test_one_answer_per_question_and_one_send_per_trigger(database):
    [ann] = await add_members(database, [1])
    send_id = await answered(database, ann, "receipt:1", None, NOW, csat=2)
    async with SqlUnitOfWork(database) as uow:
        assert not await uow.surveys.add_answer(send_id, "csat", 5, NOW)
        assert (
            await uow.surveys.add_send(
                NewSurveySend("s", ann, "purchase", "receipt:1", None, NOW, NOW)
            )
            is None
        )
        assert await uow.surveys.mark_rewarded(send_id, NOW)
        assert not await uow.surveys.mark_rewarded(send_id, NOW)
    figures = await satisfaction(SqlUnitOfWork(database, read_only=True), SINCE, UNTIL)
    assert figures.csat == Score(0.0, 1)


async def test_the_program_metrics_carry_the_figures_of_their_period(database, program):
    ann, bob = await add_members(database, [1, 2])
    await answered(database, ann, "receipt:1", "Main", NOW, csat=5, nps=10)
    await answered(database, bob, "receipt:2", None, NOW + timedelta(days=2), csat=2, nps=6)
    await answered(database, bob, "receipt:3", None, NOW + timedelta(days=40), csat=1)
    # [2026-03-02, 2026-04-01) at the program's midnights: the first two count, not the third
    figures = await program_metrics(
        SqlUnitOfWork(database, read_only=True), program, date(2026, 3, 2), date(2026, 4, 1)
    )
    # csat 5, 2: 1 of 2 positive = 50.0; nps 10, 6: 50% promoters - 50% detractors = 0.0
    assert as_json(figures)["satisfaction"] == {
        "csat": {"value": 50.0, "answers": 2},
        "ces": {"value": None, "answers": 0},
        "nps": {"value": 0.0, "answers": 2},
        "by_store": {
            "Main": {
                "csat": {"value": 100.0, "answers": 1},
                "ces": {"value": None, "answers": 0},
                "nps": {"value": 100.0, "answers": 1},
                "by_store": {},
            }
        },
    }
