"""The parameters of one Bot API call, read the same way whatever the body encoding.

Frameworks send a JSON body (native types), or a form where every value is a string and
nested objects are JSON-encoded (aiogram, python-telegram-bot). The typed readers accept
both, and remember what they decoded so the call log shows typed values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.emulator.errors import bad_request

__all__ = ["Params", "Upload"]

_TRUE = {"true", "1", "True"}
_FALSE = {"false", "0", "False", ""}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart body."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """Typed access to a call's parameters; a missing or null value reads as None."""

    def __init__(self, values: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}
        self.decoded: dict[str, Any] = {}

    def logged(self) -> dict[str, Any]:
        """All parameters, decoded where a method read them."""
        merged = {**self.values, **self.decoded}
        for name, upload in self.files.items():
            if f"attach://{name}" not in self.values.values():
                merged.setdefault(name, f"<upload {upload.filename}, {len(upload.data)} bytes>")
        return merged

    def _raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        """A string parameter (numbers are accepted and converted, as Telegram does)."""
        value = self._raw(name)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise bad_request(f'field "{name}" must be a string')
        result = value if isinstance(value, str) else json.dumps(value)
        self.decoded[name] = result
        return result

    def integer(self, name: str) -> int | None:
        """An integer parameter."""
        value = self._raw(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str, float)):
            raise bad_request(f'field "{name}" must be an Integer')
        try:
            result = int(value)
        except ValueError:
            raise bad_request(f'field "{name}" must be an Integer') from None
        self.decoded[name] = result
        return result

    def number(self, name: str) -> float | None:
        """A float parameter (timeouts)."""
        value = self._raw(name)
        if value is None:
            return None
        try:
            result = float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be a Number') from None
        self.decoded[name] = result
        return result

    def flag(self, name: str) -> bool:
        """A boolean parameter; absent means false."""
        value = self._raw(name)
        if value is None:
            return False
        if isinstance(value, bool):
            result = value
        elif isinstance(value, str) and value in _TRUE | _FALSE:
            result = value in _TRUE
        elif isinstance(value, int):
            result = value != 0
        else:
            raise bad_request(f'field "{name}" must be a Boolean')
        self.decoded[name] = result
        return result

    def json(self, name: str, what: str | None = None) -> Any:
        """An object or array parameter, JSON-encoded in forms."""
        value = self._raw(name)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what or name} JSON object") from None
        self.decoded[name] = value
        return value

    def chat_id(self, name: str = "chat_id") -> int | str | None:
        """A chat id: an integer, or "@username" for public chats."""
        value = self._raw(name)
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.startswith("@"):
            self.decoded[name] = value
            return value
        try:
            result = int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        self.decoded[name] = result
        return result
