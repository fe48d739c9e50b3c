"""`loyalty-bot program check` refuses a program whose locales have no messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import program_of
from bot.cli import main
from bot.settings import Settings
from domain.program_file import ProgramError, default_program_path


def test_a_locale_without_messages_is_refused(tmp_path: Path, capsys) -> None:
    text = default_program_path().read_text(encoding="utf-8")
    path = tmp_path / "program.toml"
    path.write_text(text.replace('locales = ["en", "es"]', 'locales = ["en", "fr"]'))
    assert main(["program", "check", str(path)]) == 1
    assert 'program.locales: no translations for "fr"' in capsys.readouterr().err


def test_the_bot_refuses_it_at_start_too(tmp_path: Path) -> None:
    text = default_program_path().read_text(encoding="utf-8")
    path = tmp_path / "program.toml"
    path.write_text(text.replace('locales = ["en", "es"]', 'locales = ["pt_BR", "en"]'))
    with pytest.raises(ProgramError, match=r'program\.locales: no translations for "pt_BR"'):
        program_of(Settings(loyalty_program=path))
