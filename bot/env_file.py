"""A `.env` file read as python-dotenv read it for pydantic-settings, minus the dependency.

`NAME=value` statements (optionally after `export `), blank lines and `#` comment lines.
A value in single quotes is literal except `\\'` and `\\\\`; in double quotes `\\n`, `\\t`,
`\\"`, `\\\\` and the other C escapes are decoded; both may span lines. An unquoted value is
trimmed and loses a ` #comment`. `${NAME}` and `${NAME:-default}` are replaced, from the
file's earlier statements, then the environment. A bare `NAME` unsets NAME in the file
(the environment's still counts). A statement that is none of these is refused with its
line number (python-dotenv warned and skipped it).
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from pathlib import Path

_TOKEN = re.compile(
    r"""(?P<skipped>(?:\s|\#[^\n]*)+)  # blank lines, indentation, comment lines
    | (?:export[^\S\n]+)?
      (?:'(?P<quoted_name>[^']+)'|(?P<name>[^=\#\s'][^=\#\s]*))
      [^\S\n]*
      (?:=(?:
          [^\S\n]*'(?P<single>(?:\\.|[^'\\])*)'
        | [^\S\n]*"(?P<double>(?:\\.|[^"\\])*)"
        | (?P<unquoted>(?![^\S\n]*['"])[^\n]*)
      ))?
      [^\S\n]*(?:\#[^\n]*)?(?=\n|\Z)
    | (?P<refused>[^\n]+)""",
    re.VERBOSE | re.DOTALL,
)
_OPENS_QUOTE = re.compile(r"[^=]*=[^\S\n]*['\"]")
_SINGLE_ESCAPE = re.compile(r"\\([\\'])")
_DOUBLE_ESCAPE = re.compile(r"\\([\\'\"abfnrtv])")
_C_ESCAPES = dict(zip("\\'\"abfnrtv", "\\'\"\a\b\f\n\r\t\v", strict=True))
_INLINE_COMMENT = re.compile(r"\s+#.*")
_VARIABLE = re.compile(r"\$\{(?P<name>[^}:]*)(?::-(?P<default>[^}]*))?\}")


class EnvFileError(ValueError):
    """A `.env` file that cannot be read; the message names the file and the line."""


def read_env_file(path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The values the file at `path` sets, names as written; none when it is not a file."""
    if not path.is_file():
        return {}
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise EnvFileError(f"{path}: {error.strerror}") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise EnvFileError(f"{path} line {line}: not UTF-8 text") from error
    return parse_env(text.replace("\r\n", "\n").replace("\r", "\n"), environ, str(path))


def parse_env(text: str, environ: Mapping[str, str], source: str = ".env") -> dict[str, str]:
    """The values the statements in `text` set, later ones winning; EnvFileError otherwise."""
    values: dict[str, str | None] = {}  # None: a bare NAME, which unsets NAME
    known = ChainMap[str, str | None](values, dict(environ))
    text = text.removeprefix("\ufeff")
    for token in _TOKEN.finditer(text):
        if token["refused"] is not None:
            line = text.count("\n", 0, token.start()) + 1
            raise EnvFileError(f"{source} line {line}: {_complaint(token['refused'])}")
        name = token["quoted_name"] or token["name"]
        if name:
            value = _value(token)
            values[name] = None if value is None else _VARIABLE.sub(_lookup(known), value)
    return {name: value for name, value in values.items() if value is not None}


def _value(token: re.Match[str]) -> str | None:
    """The statement's value with its quoting undone; None for a bare NAME."""
    if token["single"] is not None:
        return _SINGLE_ESCAPE.sub(r"\1", token["single"])
    if token["double"] is not None:
        return _DOUBLE_ESCAPE.sub(lambda m: _C_ESCAPES[m[1]], token["double"])
    if token["unquoted"] is not None:
        return _INLINE_COMMENT.sub("", token["unquoted"]).strip()
    return None


def _lookup(known: Mapping[str, str | None]) -> Callable[[re.Match[str]], str]:
    """`${NAME}`'s replacement: NAME's value, else the default after `:-`, else nothing."""
    return lambda variable: known.get(variable["name"], variable["default"]) or ""


def _complaint(line: str) -> str:
    """Why `line` is refused, without repeating it (it may hold a secret)."""
    if _OPENS_QUOTE.match(line):
        return "a quoted value needs its closing quote, and nothing but a # comment after it"
    return "expected NAME=value"
