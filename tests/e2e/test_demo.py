"""`loyalty-bot demo`, the README's first command: the whole story, offline."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.cli import main


def test_the_demo_tells_the_whole_story(capsys):
    with ThreadPoolExecutor(1) as pool:  # main() runs its own event loop
        assert pool.submit(main, ["demo"]).result(timeout=300) == 0
    out = capsys.readouterr().out
    for line in (
        "Ann > /start",
        "Bea > /start r-",
        "Recibiste 100 puntos para empezar.",
        "A friend joined through your link!",
        "Purchase R-1002: +1,039 points",
        "You are now Insider",
        "A friend you invited qualified: +100 points",
        "(till) receipt R-1002 for Ann: 1,039 points awarded",
        "Tier: Insider",
        "Free coffee is yours!",
        "Thank you! You gave 200 points to Plant trees.",
        "Friend qualified: +100",
        "[ ✅ Redeem ] [ ↩ Back ]",
        "Max > /broadcast",
        "everyone\n   bot  That is 2 members now",
        "+50 points are yours!",
        "Broadcast #1 · done",
        "Sent 2 / 2",
        "End of the demo",
    ):
        assert line in out, line
    assert "Traceback" not in out


def test_a_demo_the_bot_stops_answering_ends_in_one_line(monkeypatch, capsys):
    async def stalls(out):
        raise TimeoutError

    monkeypatch.setattr("bot.demo._play", stalls)
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "the bot did not answer the last step above within 30 s" in err
    assert "database" not in err
    assert "Traceback" not in err
