"""`.env` files read as python-dotenv read them for pydantic-settings, and refused lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.env_file import EnvFileError, parse_env, read_env_file


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("A=1\nB=two words\n", {"A": "1", "B": "two words"}),
        ("export A=1\n  export   B = 2 \n", {"A": "1", "B": "2"}),
        ("# a comment\n\n   # indented\nA=1\n\n", {"A": "1"}),
        (
            "A=1 # why\nB=2\t# why\nC=x#y\nD= # nothing\nE=#x\n",
            {"A": "1", "B": "2", "C": "x#y", "D": "", "E": "#x"},
        ),
        ("A=\nB=''\nC=\"\"\nD=   \n", {"A": "", "B": "", "C": "", "D": ""}),
        ("A='a b #c \\n $x'\n", {"A": "a b #c \\n $x"}),
        ("A='it\\'s a \\\\'\n", {"A": "it's a \\"}),
        ('A="a\\nb\\tc\\"d\\\\e\\qf"\n', {"A": 'a\nb\tc"d\\e\\qf'}),
        ("A=\"x # y\" # z\nB='q'#r\n", {"A": "x # y", "B": "q"}),
        ("A=\"one\ntwo\"\nB='three\nfour'\nC=5\n", {"A": "one\ntwo", "B": "three\nfour", "C": "5"}),
        ("A=a=b\n'B'=quoted name\n", {"A": "a=b", "B": "quoted name"}),
        ("A=1\nA=2\n", {"A": "2"}),
        ("\ufeffA=1", {"A": "1"}),
        ("A=1$x$\n", {"A": "1$x$"}),
    ],
)
def test_the_usual_statements(text: str, values: dict[str, str]) -> None:
    assert parse_env(text, {}) == values


def test_variables_from_earlier_lines_then_the_environment() -> None:
    text = "HOST=db\nURL=pg://${USER}@${HOST}/${NAME:-loyalty}${LATER}\nLATER=x\nQ='${HOST}'\n"
    assert parse_env(text, {"USER": "ann", "HOST": "ignored"}) == {
        "HOST": "db",
        "URL": "pg://ann@db/loyalty",
        "LATER": "x",
        "Q": "db",
    }


def test_a_bare_name_unsets_it_in_the_file() -> None:
    assert parse_env("A=1\nA\nB # why\nC=${A:-none}\n", {"A": "env"}) == {"C": ""}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("A=1\nBOT_TOKEN 123:secret\n", 2, "expected NAME=value"),
        ("# first\n\n=123:secret\n", 3, "expected NAME=value"),
        ('A=1\n\nB="123:secret\nC=3\n', 3, "a quoted value needs its closing quote"),
        ("B='123:secret' more\n", 1, "a quoted value needs its closing quote"),
    ],
)
def test_any_other_line_is_refused_with_its_number(text: str, line: int, reason: str) -> None:
    with pytest.raises(EnvFileError) as refused:
        parse_env(text, {})
    assert str(refused.value).startswith(f".env line {line}: {reason}")
    assert "secret" not in str(refused.value)


def test_the_file_is_utf8_with_any_line_ends(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    assert read_env_file(path, {}) == {}
    path.write_bytes("A=café\r\nB=2\rC=3".encode())
    assert read_env_file(path, {}) == {"A": "café", "B": "2", "C": "3"}
    path.write_bytes(b"A=1\nB=caf\xe9\n")
    with pytest.raises(EnvFileError, match=f"^{re.escape(str(path))} line 2: not UTF-8 text$"):
        read_env_file(path, {})
