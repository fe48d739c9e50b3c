"""`INSERT ... ON CONFLICT DO NOTHING` for SQLite and PostgreSQL, each with its own construct."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflict(dialect: str, table: Any, **values: object) -> Insert:
    """An insert that silently does nothing when the row's key already exists."""
    if dialect == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()
