"""The API's one error body, `{"error": code, "detail": sentence}`, used by the routes and
by the guard in front of them."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

RETRY_AFTER_SECONDS = 5  # what a 503 asks a client to wait before it tries again


class ApiError(Exception):
    """An HTTP error with the API's body."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def error_response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None, **extra: object
) -> JSONResponse:
    """The one error body (a 422 adds the list of `fields`)."""
    return JSONResponse(
        {"error": code, "detail": detail, **extra}, status_code=status, headers=headers
    )


def unavailable_response() -> JSONResponse:
    """503: the database cannot be reached now; the client may retry after a while."""
    return error_response(
        503,
        "database_unavailable",
        "the database cannot be reached; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
