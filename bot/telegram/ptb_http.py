"""PTB's Bot API calls over httpcore connections kept by the adapter itself.

PTB's own `HTTPXRequest` goes through httpx's connection pool, which looks at every
connection (a system call each) whenever a call starts or ends: with 8 calls in flight a
reply cost 0.5 ms more CPU than with one. Here the calls take turns (at most `connections`
at once) and each takes one idle keep-alive connection from a stack, so a call costs the
same however many are in flight. httpcore, h11 and anyio are what PTB already imports for
httpx, so this costs no memory beyond them (aiohttp, used here before, cost about 4 MB).
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import certifi
import httpcore
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECT_TIMEOUT, READ_TIMEOUT, WRITE_TIMEOUT = 5.0, 5.0, 5.0  # seconds, PTB's own defaults
KEEP_ALIVE = 30.0  # seconds an idle connection is kept for the next call
FORM = b"application/x-www-form-urlencoded"


class PooledRequest(BaseRequest):
    """At most `connections` Bot API calls at once, each on an idle keep-alive connection
    when there is one (a new one otherwise); timeouts as PTB's TimedOut, network and
    protocol trouble as its NetworkError."""

    def __init__(self, connections: int) -> None:
        self._turns = asyncio.Semaphore(connections)
        self._idle: list[httpcore.AsyncHTTPConnection] = []
        self._tls: ssl.SSLContext | None = None

    @property
    def read_timeout(self) -> float | None:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        """Nothing to open: connections are made by the first calls that need them."""

    async def shutdown(self) -> None:
        """Close every idle connection (calls under way close theirs when they end)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One call: its status and body (PTB reads Telegram's answer from them)."""
        body, content_type = encoded(request_data)
        target = httpcore.URL(url)
        host = target.host if target.port is None else b"%b:%d" % (target.host, target.port)
        request = httpcore.Request(
            method,
            target,
            headers=[
                (b"Host", host),
                (b"Content-Type", content_type),
                (b"Content-Length", b"%d" % len(body)),
            ],
            content=body,
            extensions={
                "timeout": {
                    "connect": _seconds(connect_timeout, CONNECT_TIMEOUT),
                    "read": _seconds(read_timeout, READ_TIMEOUT),
                    "write": _seconds(write_timeout, WRITE_TIMEOUT),
                }
            },
        )
        async with self._turns:
            with ptb_errors():
                return await self._exchange(request)

    async def _exchange(self, request: httpcore.Request) -> tuple[int, bytes]:
        """Send `request` on a connection and read the whole answer; the connection goes
        back to the idle stack only when the exchange ended cleanly."""
        connection = await self._connection(request.url.origin)
        try:
            response = await connection.handle_async_request(request)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except BaseException:
            await connection.aclose()
            raise
        if connection.is_available():
            self._idle.append(connection)
        return response.status, content

    async def _connection(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        """The most recently used idle connection to `origin` still open (expired or
        server-closed ones are closed on the way), or a new one."""
        while self._idle:
            connection = self._idle.pop()
            if connection.can_handle_request(origin) and not connection.has_expired():
                return connection
            await connection.aclose()
        return httpcore.AsyncHTTPConnection(
            origin, ssl_context=self._tls_for(origin), keepalive_expiry=KEEP_ALIVE
        )

    def _tls_for(self, origin: httpcore.Origin) -> ssl.SSLContext | None:
        """One verifying TLS context for https, made when first needed, trusting certifi's
        authorities as httpx (PTB's default) does, so a host without a CA store works."""
        if origin.scheme != b"https":
            return None
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls


def _seconds(value: ODVInput[float], default: float) -> float | None:
    """A timeout PTB passed, or the default when it passed none."""
    return default if isinstance(value, DefaultValue) else value


@contextmanager
def ptb_errors() -> Iterator[None]:
    """httpcore's timeouts as PTB's TimedOut, its other failures as NetworkError."""
    try:
        yield
    except httpcore.TimeoutException as error:
        raise TimedOut(f"httpcore.{type(error).__name__}") from error
    except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as error:
        raise NetworkError(f"httpcore.{type(error).__name__}: {error}") from error


def encoded(request_data: RequestData | None) -> tuple[bytes, bytes]:
    """The call's body and content type: its parameters as a form, or as multipart parts
    when it uploads files."""
    if request_data is None:
        return b"", FORM
    if request_data.multipart_data:
        return multipart(request_data)
    return urlencode(request_data.json_parameters).encode(), FORM


def multipart(request_data: RequestData) -> tuple[bytes, bytes]:
    """multipart/form-data (RFC 7578): each parameter a part, each file a part with its
    filename and type."""
    boundary = secrets.token_hex(16).encode()
    parts: list[bytes] = []
    for name, value in request_data.json_parameters.items():
        parts.append(_part(boundary, _disposition(name), value.encode()))
    for name, (filename, content, mime) in (request_data.multipart_data or {}).items():
        head = _disposition(name) + b'; filename="' + _quoted(filename or name) + b'"'
        head += b"\r\nContent-Type: " + (mime or "application/octet-stream").encode()
        parts.append(
            _part(boundary, head, content if isinstance(content, bytes) else content.read())
        )
    body = b"".join(parts) + b"--" + boundary + b"--\r\n"
    return body, b"multipart/form-data; boundary=" + boundary


def _part(boundary: bytes, head: bytes, content: bytes) -> bytes:
    """One part: boundary, headers, blank line, content."""
    return b"--" + boundary + b"\r\nContent-Disposition: " + head + b"\r\n\r\n" + content + b"\r\n"


def _disposition(name: str) -> bytes:
    """`form-data; name="..."` for one field."""
    return b'form-data; name="' + _quoted(name) + b'"'


def _quoted(text: str) -> bytes:
    """A name or filename inside double quotes, escaped as browsers do (HTML's form
    encoding): a quote, CR and LF percent-encoded, the rest UTF-8."""
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode()
