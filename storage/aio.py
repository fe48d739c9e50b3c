"""Awaitable engines and connections over SQLAlchemy Core, without its asyncio extension.

The drivers (aiosqlite, asyncpg) are asyncio ones; SQLAlchemy runs a synchronous Core
connection over them inside its greenlet bridge (`greenlet_spawn`), which is all its
`sqlalchemy.ext.asyncio` does for Core. That extension also imports the ORM (its sessions),
about 6 MB in every process, and storage speaks Core only. Results come back whole, as the
extension's `execute` gives them (the drivers fetch every row of a statement at once).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar, TypeVarTuple, overload

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Transaction
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.util import greenlet_spawn

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def create_async_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine for an asyncio driver's URL (sqlite+aiosqlite, postgresql+asyncpg), with
    `create_engine`'s options; its connections are used through `await`."""
    return AsyncEngine(create_engine(url, **options))


class AsyncEngine:
    """A Core `Engine` whose connections are awaited; `sync_engine` takes event listeners."""

    def __init__(self, sync_engine: Engine) -> None:
        self.sync_engine = sync_engine

    @property
    def dialect(self) -> Dialect:
        return self.sync_engine.dialect

    @property
    def pool(self) -> Pool:
        return self.sync_engine.pool

    def connect(self) -> Connecting:
        """A connection from the pool: `await engine.connect()` (close it yourself) or
        `async with engine.connect() as conn` (closed at the end)."""
        return Connecting(self)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed at the end, rolled back on an error."""
        async with self.connect() as conn, conn.begin():
            yield conn

    async def dispose(self) -> None:
        """Close the pool's connections."""
        await greenlet_spawn(self.sync_engine.dispose)


class Connecting:
    """What `AsyncEngine.connect` returns: awaitable, or an async context manager."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    def __await__(self) -> Generator[Any, None, AsyncConnection]:
        return self._open().__await__()

    async def _open(self) -> AsyncConnection:
        sync = await greenlet_spawn(self._engine.sync_engine.connect)
        return AsyncConnection(sync)

    async def __aenter__(self) -> AsyncConnection:
        self._conn = await self._open()
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        assert self._conn is not None
        await to_completion(self._conn.close())


class AsyncConnection:
    """A Core `Connection` whose statements are awaited (`execute`, `scalar`, `run_sync` ...);
    `sync_connection` is the connection itself, for what needs no I/O."""

    def __init__(self, sync_connection: Connection) -> None:
        self.sync_connection = sync_connection

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self.sync_connection.info

    @property
    def closed(self) -> bool:
        return self.sync_connection.closed

    @property
    def invalidated(self) -> bool:
        return self.sync_connection.invalidated

    def in_transaction(self) -> bool:
        return self.sync_connection.in_transaction()

    @overload
    async def execute(
        self,
        statement: TypedReturnsRows[*Ts],
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[*Ts]: ...

    @overload
    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[*tuple[Any, ...]]: ...

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[*tuple[Any, ...]]:
        """Run a statement; its whole result."""
        return await greenlet_spawn(
            self.sync_connection.execute,
            statement,
            parameters,
            execution_options=execution_options,
        )

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        """The first column of the first row of a statement's result (None if no row)."""
        return (await self.execute(statement, parameters)).scalar()

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]:
        """Run SQL text as the driver takes it."""
        return await greenlet_spawn(self.sync_connection.exec_driver_sql, statement, parameters)

    async def run_sync(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `work(sync_connection, *args, **kwargs)`, which may use it synchronously."""
        return await greenlet_spawn(work, self.sync_connection, *args, **kwargs)

    def begin(self) -> Beginning:
        """Begin a transaction: `await conn.begin()` (then `commit` or `rollback`), or
        `async with conn.begin()` (committed at the end, rolled back on an error)."""
        return Beginning(self)

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_connection.commit)

    async def rollback(self) -> None:
        await greenlet_spawn(self.sync_connection.rollback)

    async def close(self) -> None:
        """Give the connection back to the pool (what is left open is rolled back)."""
        await greenlet_spawn(self.sync_connection.close)

    async def invalidate(self, exception: BaseException | None = None) -> None:
        """Drop the driver's connection: the pool will not hand it out again."""
        await greenlet_spawn(self.sync_connection.invalidate, exception)

    async def execution_options(self, **options: Any) -> AsyncConnection:
        """Set options (e.g. isolation_level) on this connection; itself."""
        await greenlet_spawn(self.sync_connection.execution_options, **options)
        return self

    async def get_raw_connection(self) -> PoolProxiedConnection:
        """The pool's proxy of the driver's connection (reconnecting an invalidated one)."""
        return await greenlet_spawn(getattr, self.sync_connection, "connection")

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await to_completion(self.close())


class Beginning:
    """What `AsyncConnection.begin` returns: awaitable, or an async context manager."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._transaction: Transaction | None = None

    def __await__(self) -> Generator[Any, None, Transaction]:
        return self._start().__await__()

    async def _start(self) -> Transaction:
        self._transaction = await greenlet_spawn(self._conn.sync_connection.begin)
        return self._transaction

    async def __aenter__(self) -> AsyncConnection:
        await self._start()
        return self._conn

    async def __aexit__(self, *exc: Any) -> None:
        """Commit, or roll back on an error (Core's own rules for a `with` transaction)."""
        assert self._transaction is not None
        await greenlet_spawn(self._transaction.__exit__, *exc)


async def to_completion(work: Coroutine[Any, Any, T]) -> T:
    """Await `work` in a task of its own to its end even if the caller is cancelled
    meanwhile (a close abandoned halfway would leave its connection neither in the pool
    nor closed); the cancellation is raised after."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled
    return result
