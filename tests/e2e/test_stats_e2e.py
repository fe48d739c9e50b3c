"""/stats end to end on both frameworks: an admin gets the charts as photos and the key
figures, then presses the button for the period before; a customer learns nothing."""

from __future__ import annotations

from bot.emulator import Emulator
from tests.e2e.conftest import ADMIN_ID
from tests.png import png_size

TITLES = [
    "Members at the end of each week",
    "Points per week",
    "Members per tier",
    "Net revenue per week (USD)",
    "Survey scores",
]


async def test_an_admin_reads_the_stats_and_the_period_before(shop: Emulator):
    admin = shop.user(ADMIN_ID, "Alma", language_code="en")
    ann = shop.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    await admin.send("/stats")
    for screen in range(2):  # today's, then the one the button shows
        if screen:
            await admin.press("◀ Previous period")
        charts = [await admin.wait_for_message(timeout=30) for _ in TITLES]
        assert [chart.caption for chart in charts] == TITLES
        for chart in charts:
            assert chart.photo is not None
            assert png_size(chart.photo) == (800, 450)
        figures = await admin.wait_for_message(timeout=30)
        assert "Last 30 days" in figures.text
        assert "👥 Members: " in figures.text
    assert "👥 Members: 0 = (before: 0)" in figures.text  # Ann joined today: not before
    await ann.send("/stats")
    assert "I did not catch that" in (await ann.wait_for_message()).text
