"""Telling "the database cannot be reached now" from a failed statement.

A server that is down, restarting, out of connections or unreachable (and an SQLite file
that cannot be opened or stays locked) is a passing state a caller may retry later; a
statement the database refused is a bug or bad input, and stays an error.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes: connection exception, insufficient resources, operator intervention
# (shutting down, starting up), invalid authorization, invalid catalog (no such database).
_UNAVAILABLE_CLASSES = ("08", "53", "57", "28", "3D")


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or used at the moment."""
    if isinstance(error, OSError | TimeoutError | PoolTimeout | OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_CLASSES
    return False
