"""The error answer of the Bot API: an HTTP status, a description and optional parameters."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "bad_request", "forbidden"]


class ApiError(Exception):
    """A method refused the call; becomes `{"ok": false, ...}` with the same HTTP status."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """400 "Bad Request: <reason>"."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """403 "Forbidden: <reason>"."""
    return ApiError(403, f"Forbidden: {reason}")
