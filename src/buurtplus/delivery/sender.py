"""One signed HTTP request to a partner endpoint, through the SSRF guard."""

import asyncio
import ipaddress
import os
import re
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, quote

import certifi
import h11

from buurtplus.core.clock import Clock
from buurtplus.delivery.ssrf import (
    AddressGuard,
    AddressRefused,
    Resolver,
    host_and_port,
    system_resolver,
)

RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "Buurtpreventie-Plus-Webhooks/1"
# More than any wait the schedule believes (see schedule.RETRY_AFTER_CAP); keeps sums finite.
MAX_RETRY_AFTER_SECONDS = 7 * 24 * 3600
# A receiver's status line and headers together (as httpx allowed); more is a failed attempt.
MAX_RESPONSE_HEAD_BYTES = 100 * 1024
_READ_BYTES = 64 * 1024
# Characters a request target keeps as they are; anything else is percent-encoded.
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?"

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# Opens the connection to the checked address: (address, port, TLS context or None for plain
# http, the host name the certificate must be valid for). Tests pass one that records the
# address and connects to a loopback receiver instead.
Connector = Callable[[str, int, ssl.SSLContext | None, str | None], Awaitable[Stream]]


class ConnectFailed(Exception):
    """The connection to the checked address could not be made. Says why, never where: the
    address a name resolved to is the operator's business, not the partner's."""


class AnswerMissing(Exception):
    """The receiver closed the connection before its answer's status line and headers."""

    def __init__(self) -> None:
        super().__init__("The receiver closed the connection without an answer.")


def trusted_roots() -> ssl.SSLContext:
    """The CAs a partner's certificate is checked against: the files that SSL_CERT_FILE or
    SSL_CERT_DIR name when the operator sets them (a private CA), else certifi's bundle."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


async def open_stream(
    address: str, port: int, tls: ssl.SSLContext | None, server_hostname: str | None
) -> Stream:
    return await asyncio.open_connection(
        address, port, ssl=tls, server_hostname=server_hostname, limit=_READ_BYTES
    )


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    duration_ms: int
    response_excerpt: str | None = None
    error: str | None = None
    timed_out: bool = False
    # Seconds the receiver asked us to wait (Retry-After), if it said.
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class _Answer:
    status_code: int
    retry_after: str | None
    excerpt: bytes | None


class WebhookSender:
    """Sends to the address the guard checked, never to a second lookup of the name, and
    follows no redirect: a 3xx is a failed attempt.

    One POST over one new connection, spoken with h11 on asyncio streams: a general HTTP
    client cost three times the CPU of the whole exchange, and this sender needs none of its
    pooling, redirects, proxies or decoding. The connection is closed after the answer, so no
    connection is ever reused for another partner's host name.

    One attempt has one deadline for everything (name lookup, connect, TLS, send, answer), so
    a receiver that answers a byte at a time ends there too.
    """

    def __init__(
        self,
        guard: AddressGuard,
        *,
        clock: Clock,
        timeout_seconds: float,
        connect: Connector = open_stream,
        resolver: Resolver | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._guard = guard
        # Retry-After may be a date: how long until then is measured on the worker's clock.
        self._clock = clock
        self._timeout = timeout_seconds
        self._connect = connect
        self._resolver = resolver or system_resolver
        # Made once: loading the CA bundle costs ~20 ms, more than a whole local delivery.
        self._tls = tls or trusted_roots()
        self._loops = threading.local()

    def _runner(self) -> asyncio.Runner:
        """An event loop per sending thread, kept: a new one per attempt (and its thread pool
        for name lookups) cost more than a local delivery."""
        runner: asyncio.Runner | None = getattr(self._loops, "runner", None)
        if runner is None:
            runner = self._loops.runner = asyncio.Runner()
        return runner

    def send(self, url: str, *, headers: dict[str, str], body: bytes) -> AttemptResult:
        """Never raises: whatever goes wrong is a failed attempt, recorded and retried."""
        return self._runner().run(self._attempt(url, headers, body))

    def send_many(self, requests: list[tuple[str, dict[str, str], bytes]]) -> list[AttemptResult]:
        """Several attempts at once, each with its own deadline: a slow receiver makes only its
        own attempt wait. The results in the order of `requests`."""

        async def all_of() -> list[AttemptResult]:
            return list(await asyncio.gather(*(self._attempt(*r) for r in requests)))

        return self._runner().run(all_of())

    async def _attempt(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._send(url, headers, body)
        except (AddressRefused, ConnectFailed, AnswerMissing) as exc:
            return AttemptResult(status_code=None, duration_ms=elapsed(), error=str(exc))
        except TimeoutError:
            return AttemptResult(
                status_code=None, duration_ms=elapsed(), error="timed out", timed_out=True
            )
        except Exception as exc:  # a broken URL, a refused connection, a bad answer
            return AttemptResult(
                status_code=None, duration_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500]
            )
        return AttemptResult(
            status_code=answer.status_code,
            duration_ms=elapsed(),
            response_excerpt=(
                None if answer.excerpt is None else answer.excerpt.decode("utf-8", "replace")
            ),
            retry_after=self._retry_after(answer.retry_after),
        )

    def _retry_after(self, value: str | None) -> float | None:
        """Seconds to wait, from a Retry-After of seconds or of an HTTP date."""
        if not value:
            return None
        value = value.strip()
        if re.fullmatch(r"[0-9]{1,9}", value):
            return float(value)
        if re.fullmatch(r"[0-9]+", value):
            return float(MAX_RETRY_AFTER_SECONDS)
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        wait = (moment - self._clock.now()).total_seconds()
        return min(MAX_RETRY_AFTER_SECONDS, max(0.0, wait))

    async def _send(self, url: str, headers: dict[str, str], body: bytes) -> _Answer:
        parts = self._guard.check_url(url)
        host, port = host_and_port(parts)
        # An address written in the URL needs no lookup (nor the hand-off to a thread that a
        # lookup takes); a lookup that hangs is abandoned at the deadline (its thread finishes
        # on its own).
        addresses: Sequence[str] = _written_address(host)
        if not addresses:
            addresses = await asyncio.get_running_loop().run_in_executor(
                None, self._resolver, host, port
            )
        picked = self._guard.pick_address(host, port, addresses)
        ascii_host = host.encode("idna").decode("ascii")
        named = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
        https = parts.scheme == "https"
        try:
            # The certificate is checked against the partner's name, not the address dialled.
            reader, writer = await self._connect(
                picked.address,
                port,
                self._tls if https else None,
                ascii_host if https else None,
            )
        except ssl.SSLError:
            raise  # says what is wrong with the certificate, not where it was dialled
        except OSError as exc:  # "Connect call failed ('10.0.0.5', 8080)" would map the network
            # asyncio writes the address into the message: only the error number's own text.
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise ConnectFailed(f"Could not connect: {reason}.") from None
        try:
            request = h11.Request(
                method="POST",
                target=_target(parts),
                headers=[
                    ("host", f"{named}:{parts.port}" if parts.port else named),
                    *(
                        (name, value)
                        for name, value in headers.items()
                        if name.lower() not in _OWN_HEADERS
                    ),
                    ("user-agent", USER_AGENT),
                    ("content-length", str(len(body))),
                    ("connection", "close"),
                ],
            )
            # An allow-listed address may be any local service: its answer stays out of the
            # partner's attempt log (only the status code is kept).
            return await _exchange(reader, writer, request, body, excerpt=not picked.allow_listed)
        finally:
            # Nothing more is read; no TLS goodbye is awaited from a receiver that may not send one.
            writer.transport.abort()


# Set by the sender itself, or about the connection rather than the message (hop-by-hop):
# never taken from the caller's headers.
_OWN_HEADERS = frozenset(
    {
        "host",
        "user-agent",
        "content-length",
        "connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
    }
)


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: h11.Request,
    body: bytes,
    *,
    excerpt: bool,
) -> _Answer:
    """Sends the request and reads the answer's head and, when `excerpt`, at most
    RESPONSE_EXCERPT_BYTES of its body. A malformed answer raises h11's RemoteProtocolError."""
    connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_RESPONSE_HEAD_BYTES)
    writer.write(
        connection.send(request)
        + connection.send(h11.Data(data=body))
        + connection.send(h11.EndOfMessage())
    )
    await writer.drain()

    async def next_event() -> object:
        while True:
            event = connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await reader.read(_READ_BYTES)
            if not data and connection.their_state is h11.SEND_RESPONSE:
                raise AnswerMissing()
            connection.receive_data(data)

    event = await next_event()
    while isinstance(event, h11.InformationalResponse):  # 100 Continue and the like
        event = await next_event()
    if not isinstance(event, h11.Response):  # h11 raises first; kept for the type checker
        raise AnswerMissing()
    retry_after = next(
        (value.decode("latin-1") for name, value in event.headers if name == b"retry-after"),
        None,
    )
    if not excerpt:
        return _Answer(event.status_code, retry_after, None)
    collected = b""
    while len(collected) < RESPONSE_EXCERPT_BYTES:
        chunk = await next_event()
        if not isinstance(chunk, h11.Data):
            break  # the end of the answer, or the connection closed after it
        collected += chunk.data
    return _Answer(event.status_code, retry_after, collected[:RESPONSE_EXCERPT_BYTES])


def _target(parts: SplitResult) -> str:
    """The request target: path and query, with anything a request line may not carry
    percent-encoded (existing escapes are kept)."""
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    return f"{path}?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else path


def _written_address(host: str) -> list[str]:
    """The address itself when the URL names one ("127.0.0.1", "::1"): what a lookup of it
    would answer. Empty for a host name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return []
    # A scoped IPv6 address ("fe80::1%eth0") loses its zone, as after a lookup.
    return [str(address).split("%")[0]]
