"""`INSERT ... ON CONFLICT` for SQLite and PostgreSQL, each with its own construct.

Each dialect's module is imported when its construct is first asked for, so a process
loads only the dialect of its own database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An insert into `table` that takes ON CONFLICT clauses, for the dialect named."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def insert_ignoring_conflict(
    dialect: str, table: Any, **values: object
) -> postgresql.Insert | sqlite.Insert:
    """An insert that silently does nothing when the row's key already exists."""
    return dialect_insert(dialect, table).values(**values).on_conflict_do_nothing()
