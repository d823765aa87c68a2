"""One signed HTTP request to a partner endpoint, through the SSRF guard."""

import asyncio
import ipaddress
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import anyio
import httpx

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


class WebhookSender:
    """Sends to the address the guard checked, never to a second lookup of the name, and
    follows no redirect: a 3xx is a failed attempt.

    One attempt has one deadline for everything (name lookup, connect, send, answer): httpx's
    timeouts are per step, and a receiver that answers a byte at a time would never hit them.
    """

    def __init__(
        self,
        guard: AddressGuard,
        *,
        clock: Clock,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._guard = guard
        # Retry-After may be a date: how long until then is measured on the worker's clock.
        self._clock = clock
        self._timeout = timeout_seconds
        self._transport = transport
        self._resolver = resolver or system_resolver
        # Made once: loading the CA bundle costs ~20 ms, more than a whole local delivery.
        self._tls = httpx.create_ssl_context()
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
            return await self._send(url, headers, body, started)
        except AddressRefused as exc:
            return AttemptResult(status_code=None, duration_ms=elapsed(), error=str(exc))
        except (TimeoutError, httpx.TimeoutException):
            return AttemptResult(
                status_code=None, duration_ms=elapsed(), error="timed out", timed_out=True
            )
        except Exception as exc:  # a broken URL, a refused connection, a bad answer
            return AttemptResult(
                status_code=None, duration_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500]
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

    async def _send(
        self, url: str, headers: dict[str, str], body: bytes, started: float
    ) -> AttemptResult:
        with anyio.fail_after(self._timeout):
            parts = self._guard.check_url(url)
            host, port = host_and_port(parts)
            # An address written in the URL needs no lookup (nor the hand-off to a thread
            # that a lookup takes); a lookup that hangs is abandoned at the deadline (its
            # thread finishes on its own).
            addresses: Sequence[str] = _written_address(host)
            if not addresses:
                addresses = await asyncio.get_running_loop().run_in_executor(
                    None, self._resolver, host, port
                )
            picked = self._guard.pick_address(host, port, addresses)
            address = picked.address
            ascii_host = host.encode("idna").decode("ascii")
            literal = f"[{address}]" if ":" in address else address
            pinned = parts._replace(
                netloc=f"{literal}:{parts.port}" if parts.port else literal
            ).geturl()
            named = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
            host_header = f"{named}:{parts.port}" if parts.port else named
            extensions = {"sni_hostname": ascii_host} if parts.scheme == "https" else {}
            # A client per attempt: no connection is ever reused for another partner's host
            # name; no proxies from the environment, which would send our requests unchecked.
            async with (
                httpx.AsyncClient(
                    transport=self._transport,
                    verify=self._tls,
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=False,
                    trust_env=False,
                ) as client,
                client.stream(
                    "POST",
                    pinned,
                    content=body,
                    headers={**headers, "host": host_header, "user-agent": USER_AGENT},
                    extensions=extensions,
                ) as response,
            ):
                # An allow-listed address may be any local service: its answer stays out of
                # the partner's attempt log (only the status code is kept).
                excerpt = None if picked.allow_listed else await _read_excerpt(response)
                return AttemptResult(
                    status_code=response.status_code,
                    duration_ms=int((time.monotonic() - started) * 1000),
                    response_excerpt=excerpt,
                    retry_after=self._retry_after(response.headers.get("retry-after")),
                )


def _written_address(host: str) -> list[str]:
    """The address itself when the URL names one ("127.0.0.1", "::1"): what a lookup of it
    would answer. Empty for a host name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return []
    # A scoped IPv6 address ("fe80::1%eth0") loses its zone, as after a lookup.
    return [str(address).split("%")[0]]


async def _read_excerpt(response: httpx.Response) -> str:
    """At most RESPONSE_EXCERPT_BYTES of the body: a partner's error page can be large."""
    collected = b""
    async for chunk in response.aiter_bytes():
        collected += chunk
        if len(collected) >= RESPONSE_EXCERPT_BYTES:
            break
    return collected[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")
