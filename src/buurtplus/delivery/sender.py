"""Signed HTTP requests to partner endpoints, through the SSRF guard, on connections kept
for the next request to the same receiver."""

import asyncio
import ipaddress
import logging
import os
import re
import select
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import cast
from urllib.parse import SplitResult, quote

import certifi
import httptools

from buurtplus.core.clock import Clock
from buurtplus.delivery.ssrf import (
    AddressGuard,
    AddressRefused,
    Resolver,
    host_and_port,
    system_resolver,
)

log = logging.getLogger("buurtplus.delivery")

RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "Buurtpreventie-Plus-Webhooks/1"
# More than any wait the schedule believes (see schedule.RETRY_AFTER_CAP); keeps sums finite.
MAX_RETRY_AFTER_SECONDS = 7 * 24 * 3600
# A receiver's status line and headers together (as httpx allowed); more is a failed attempt.
MAX_RESPONSE_HEAD_BYTES = 100 * 1024
# An answer's body is read to its end, so that the connection can carry the next request; past
# this many bytes it is not waited for: the attempt ends and the connection is closed.
MAX_ANSWER_BODY_BYTES = 64 * 1024
# How long a connection waits idle for the next request to the same receiver: less than the
# five seconds after which common web servers close an idle connection.
KEEP_IDLE_SECONDS = 4.0
# Idle connections kept per receiver in one sending thread: as many as it sends at once; and
# in all, per sending thread (the longest idle are closed first).
MAX_IDLE_PER_RECEIVER = 8
MAX_IDLE_PER_THREAD = 64
# Chunk framing and trailers around a body: read past MAX_ANSWER_BODY_BYTES up to this much.
_FRAMING_BYTES = 8 * 1024
# Characters a request target keeps as they are; anything else is percent-encoded.
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
# A header's name and value as HTTP/1.1 allows them (RFC 9110 5.1 and 5.5).
_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e\x80-\xff](?:[ \t]*[\x21-\x7e\x80-\xff])*)?")

# Opens the connection to the checked address: (the protocol's factory, address, port, TLS
# context or None for plain http, the host name the certificate must be valid for). Tests pass
# one that records the address and connects to a loopback receiver instead.
Connector = Callable[
    [Callable[[], asyncio.Protocol], str, int, ssl.SSLContext | None, str | None],
    Awaitable[tuple[asyncio.BaseTransport, asyncio.Protocol]],
]
# Whom a connection reaches: https or not, the URL's host name, the port, the address the guard
# checked. A connection serves only requests to the same four.
_Receiver = tuple[bool, str, int, str]


class ConnectFailed(Exception):
    """The connection to the checked address could not be made. Says why, never where: the
    address a name resolved to is the operator's business, not the partner's."""


class AnswerMissing(Exception):
    """The receiver closed the connection before its answer's status line and headers."""

    def __init__(self) -> None:
        super().__init__("The receiver closed the connection without an answer.")


class RemoteProtocolError(Exception):
    """The receiver's answer is not HTTP/1.1 (or 1.0) as it must be."""


def trusted_roots() -> ssl.SSLContext:
    """The CAs a partner's certificate is checked against: the files that SSL_CERT_FILE or
    SSL_CERT_DIR name when the operator sets them (a private CA), else certifi's bundle."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


async def open_connection(
    protocol: Callable[[], asyncio.Protocol],
    address: str,
    port: int,
    tls: ssl.SSLContext | None,
    server_hostname: str | None,
) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
    return await asyncio.get_running_loop().create_connection(
        protocol, address, port, ssl=tls, server_hostname=server_hostname
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
    # Both ends let the connection carry another request, and the answer was read to its end.
    reusable: bool


class _Connection(asyncio.Protocol):
    """One connection to a receiver: one request at a time, its answer read with httptools'
    parser (llhttp, as uvicorn reads requests)."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[_Answer] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self.closed = False
        # Bytes came that answer nothing asked: the connection is not used again.
        self._spoiled = False
        self.idle_since = 0.0
        # The answer being read:
        self._excerpt: bytearray | None = None
        self._status = 0
        self._retry_after: str | None = None
        self._head_bytes = 0
        self._after_head = 0
        self._body_bytes = 0
        self._head_read = False
        self._received = False

    # --- the exchange ---

    def exchange(self, request: bytes, *, excerpt: bool) -> "asyncio.Future[_Answer]":
        """Send `request`; the future holds the answer (its body's first bytes when `excerpt`)
        once it is read to its end, or MAX_ANSWER_BODY_BYTES of its body are."""
        assert self._transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._parser = httptools.HttpResponseParser(self)
        # Lines ending in a bare LF, as h11 (the sender's parser before) took them.
        self._parser.set_dangerous_leniencies(lenient_optional_cr_before_lf=True)
        self._excerpt = bytearray() if excerpt else None
        self._status, self._retry_after = 0, None
        self._head_bytes = self._after_head = self._body_bytes = 0
        self._head_read = self._received = False
        self._transport.write(request)
        return self._answer

    def usable(self, now: float) -> bool:
        """Still open at both ends and not idle for too long: may carry the next request. A
        socket that is readable while nothing was asked holds the receiver's close (or bytes
        nobody asked for)."""
        if self.closed or self._spoiled or self._transport is None:
            return False
        if self._transport.is_closing() or now - self.idle_since > KEEP_IDLE_SECONDS:
            return False
        sock = self._transport.get_extra_info("socket")
        if sock is None:
            return True
        # poll, not select: select refuses a descriptor numbered 1024 or more.
        readable = select.poll()
        readable.register(sock.fileno(), select.POLLIN)
        return not readable.poll(0)

    def abort(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def _settle(self, *, reusable: bool) -> None:
        if self._answer is not None and not self._answer.done():
            excerpt = None if self._excerpt is None else bytes(self._excerpt)
            self._answer.set_result(_Answer(self._status, self._retry_after, excerpt, reusable))

    def _fail(self, error: Exception) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(error)

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._head_read:  # an answer whose body ends with the connection
            self._settle(reusable=False)
        elif self._received:
            self._fail(RemoteProtocolError("The connection closed in the middle of the answer."))
        else:
            self._fail(AnswerMissing())

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done() or self._parser is None:
            self._spoiled = True  # nothing was asked
            return
        self._received = True
        try:
            if self._head_read:
                # A body, its chunks' framing and trailers: not read without end either.
                self._after_head += len(data)
                if self._after_head > MAX_ANSWER_BODY_BYTES + _FRAMING_BYTES:
                    self._settle(reusable=False)
                    return
                self._parser.feed_data(data)
                return
            # The head is read up to its limit, so an endless one is never held in memory.
            room = MAX_RESPONSE_HEAD_BYTES - self._head_bytes
            self._head_bytes += min(len(data), room)
            self._parser.feed_data(data[:room])
            if not self._head_read and len(data) >= room:
                raise RemoteProtocolError("The answer's head is longer than 100 KiB.")
            if len(data) > room:
                self._after_head += len(data) - room
                self._parser.feed_data(data[room:])
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._fail(RemoteProtocolError(f"The answer is not HTTP: {exc}"))
        except RemoteProtocolError as exc:
            self._fail(exc)

    # --- httptools' callbacks ---

    def on_message_begin(self) -> None:
        if self._answer is None or self._answer.done():
            self._spoiled = True  # a second answer to one request
        self._retry_after = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"retry-after":
            self._retry_after = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        if self._parser.get_http_version() not in ("1.1", "1.0"):
            self._spoiled = True
            self._fail(RemoteProtocolError("The answer is not HTTP/1.1."))
            return
        status = self._parser.get_status_code()
        if status >= 200:  # not 100 Continue and the like: the answer itself
            self._status, self._head_read = status, True

    def on_body(self, body: bytes) -> None:
        if not self._head_read:
            return
        self._body_bytes += len(body)
        if self._excerpt is not None and len(self._excerpt) < RESPONSE_EXCERPT_BYTES:
            self._excerpt += body[: RESPONSE_EXCERPT_BYTES - len(self._excerpt)]
        if self._body_bytes > MAX_ANSWER_BODY_BYTES:
            self._settle(reusable=False)

    def on_message_complete(self) -> None:
        if self._head_read and self._parser is not None:
            self._settle(reusable=self._parser.should_keep_alive())


class _Idle:
    """The connections of one sending thread that wait for the next request to their
    receiver: per receiver, the longest idle first (a receiver without one has no entry)."""

    def __init__(self) -> None:
        self._by_receiver: dict[_Receiver, list[_Connection]] = {}

    def take(self, receiver: _Receiver) -> _Connection | None:
        now = time.monotonic()
        while waiting := self._by_receiver.get(receiver):
            connection = waiting.pop()
            if not waiting:
                del self._by_receiver[receiver]
            if connection.usable(now):
                return connection
            connection.abort()
        return None

    def keep(self, receiver: _Receiver, connection: _Connection) -> None:
        waiting = self._by_receiver.get(receiver, [])
        connection.idle_since = time.monotonic()
        if len(waiting) >= MAX_IDLE_PER_RECEIVER or not connection.usable(connection.idle_since):
            connection.abort()
            return
        self._by_receiver.setdefault(receiver, []).append(connection)
        if sum(map(len, self._by_receiver.values())) > MAX_IDLE_PER_THREAD:
            longest = min(self._by_receiver, key=lambda r: self._by_receiver[r][0].idle_since)
            self._by_receiver[longest].pop(0).abort()
            if not self._by_receiver[longest]:
                del self._by_receiver[longest]

    def close(self, *, only_stale: bool) -> None:
        """Close the connections idle for too long or closed by their receiver (`only_stale`),
        or all of them."""
        now = time.monotonic()
        for receiver, waiting in list(self._by_receiver.items()):
            kept = [c for c in waiting if only_stale and c.usable(now)]
            for connection in waiting:
                if connection not in kept:
                    connection.abort()
            if kept:
                self._by_receiver[receiver] = kept
            else:
                del self._by_receiver[receiver]

    def __bool__(self) -> bool:
        return bool(self._by_receiver)


@dataclass
class _Thread:
    """What one sending thread keeps between its batches: an event loop (a new one, with its
    thread pool for name lookups, cost more than a local delivery) and its idle connections."""

    runner: asyncio.Runner
    idle: _Idle


class WebhookSender:
    """Sends to the address the guard checked, never to a second lookup of the name, and
    follows no redirect: a 3xx is a failed attempt.

    HTTP/1.1 spoken on asyncio connections, the answers read with httptools: a general HTTP
    client cost three times the CPU of the whole exchange, and this sender needs none of its
    redirects, proxies or decoding. A connection is kept (KEEP_IDLE_SECONDS) for the next
    request to the same receiver: the same https-or-not, host name, port and checked address,
    so a connection never carries a request for another host name (partners on one host share
    it, as they share the server), nor one to an address the guard did not check this time. A
    kept connection that the receiver closes just as a request goes out, before any byte of an
    answer, is replaced once by a new one for that request. (Before a kept connection is used,
    one its receiver closed while it was idle is seen and let go; the retry covers a close on
    its way.)

    One attempt has one deadline for everything (name lookup, connect, TLS, send, answer), so
    a receiver that answers a byte at a time ends there too.

    Each thread that sends has its own event loop and connections; `close()` ends the calling
    thread's.
    """

    def __init__(
        self,
        guard: AddressGuard,
        *,
        clock: Clock,
        timeout_seconds: float,
        connect: Connector = open_connection,
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
        self._threads = threading.local()

    def _thread(self) -> _Thread:
        kept: _Thread | None = getattr(self._threads, "kept", None)
        if kept is None:
            kept = self._threads.kept = _Thread(asyncio.Runner(), _Idle())
        return kept

    def send(self, url: str, *, headers: dict[str, str], body: bytes) -> AttemptResult:
        """Never raises: whatever goes wrong is a failed attempt, recorded and retried."""
        return self.send_many([(url, headers, body)])[0]

    def send_many(self, requests: list[tuple[str, dict[str, str], bytes]]) -> list[AttemptResult]:
        """Several attempts at once, each with its own deadline: a slow receiver makes only its
        own attempt wait. The results in the order of `requests`."""
        thread = self._thread()

        async def all_of() -> list[AttemptResult]:
            thread.idle.close(only_stale=True)
            return list(await asyncio.gather(*(self._attempt(thread.idle, *r) for r in requests)))

        return thread.runner.run(all_of())

    def close_stale(self) -> None:
        """Close the calling thread's connections that were idle too long or that their
        receiver closed (a sending thread with nothing to send calls this now and then)."""
        thread: _Thread | None = getattr(self._threads, "kept", None)
        if thread is not None and thread.idle:
            thread.runner.run(_closing(thread.idle, only_stale=True))

    def close(self) -> None:
        """Close the calling thread's connections and event loop."""
        thread: _Thread | None = getattr(self._threads, "kept", None)
        if thread is None:
            return
        del self._threads.kept
        thread.runner.run(_closing(thread.idle, only_stale=False))
        thread.runner.close()

    async def _attempt(
        self, idle: _Idle, url: str, headers: dict[str, str], body: bytes
    ) -> AttemptResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._send(idle, url, headers, body)
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

    async def _send(self, idle: _Idle, url: str, headers: dict[str, str], body: bytes) -> _Answer:
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
        request = _request(
            _target(parts), f"{named}:{parts.port}" if parts.port else named, headers, body
        )
        receiver = (https, ascii_host, port, picked.address)
        # An allow-listed address may be any local service: its answer stays out of the
        # partner's attempt log (only the status code is kept).
        excerpt = not picked.allow_listed
        kept = idle.take(receiver)
        if kept is not None:
            try:
                return await _exchange(idle, receiver, kept, request, excerpt=excerpt)
            except AnswerMissing:
                # Closed by the receiver as the request went out (its idle time ran out), not
                # answered: sent once more, on a new connection. (The webhook-id is the same: a
                # receiver that did take the first copy can tell.)
                pass
        connection = await self._open(picked.address, port, https, ascii_host)
        return await _exchange(idle, receiver, connection, request, excerpt=excerpt)

    async def _open(self, address: str, port: int, https: bool, host: str) -> _Connection:
        try:
            # The certificate is checked against the partner's name, not the address dialled.
            _, protocol = await self._connect(
                _Connection, address, port, self._tls if https else None, host if https else None
            )
        except ssl.SSLError:
            raise  # says what is wrong with the certificate, not where it was dialled
        except OSError as exc:  # "Connect call failed ('10.0.0.5', 8080)" would map the network
            # asyncio writes the address into the message: only the error number's own text.
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise ConnectFailed(f"Could not connect: {reason}.") from None
        return cast(_Connection, protocol)


async def _exchange(
    idle: _Idle, receiver: _Receiver, connection: _Connection, request: bytes, *, excerpt: bool
) -> _Answer:
    """The answer to `request` on `connection`, which is kept for the next request to
    `receiver` when both ends allow it, and closed otherwise (also on a failure or at the
    deadline: nothing more is read, no TLS goodbye is awaited)."""
    try:
        answer = await connection.exchange(request, excerpt=excerpt)
    except BaseException:
        connection.abort()
        raise
    if not answer.reusable:
        connection.abort()
        return answer
    try:
        idle.keep(receiver, connection)
    except Exception:  # the answer stands; the connection is not kept
        log.exception("keeping a connection failed")
        connection.abort()
    return answer


async def _closing(idle: _Idle, *, only_stale: bool) -> None:
    idle.close(only_stale=only_stale)
    # The closed connections' sockets are let go on the loop's next turn.
    await asyncio.sleep(0)


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


def _request(target: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    """The request's bytes: a POST of `body` with the caller's headers (but those above) and
    the sender's own. A header HTTP does not allow raises ValueError (a failed attempt)."""
    lines = [f"POST {target} HTTP/1.1", f"host: {host}"]
    for name, value in headers.items():
        if name.lower() in _OWN_HEADERS:
            continue
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise ValueError(f"The header {name!r} cannot be sent as it is.")
        lines.append(f"{name}: {value}")
    lines += [f"user-agent: {USER_AGENT}", f"content-length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


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
