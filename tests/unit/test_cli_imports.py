"""The command line loads the local emulator, the demo and the chat only for their commands."""

from __future__ import annotations

import subprocess
import sys

ONLY_ON_REQUEST = ("bot.emulator", "bot.demo", "bot.chat")


def test_the_cli_leaves_the_emulator_demo_and_chat_out() -> None:
    probe = (
        "import sys, bot.cli; "
        f"print(sorted(m for m in sys.modules if m.startswith({ONLY_ON_REQUEST!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
