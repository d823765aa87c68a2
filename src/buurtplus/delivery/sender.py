"""One signed HTTP request to a partner endpoint, through the SSRF guard."""

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from buurtplus.delivery.ssrf import AddressGuard, AddressRefused, Resolver

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
    follows no redirect: a 3xx is a failed attempt."""

    def __init__(
        self,
        client: httpx.Client,
        guard: AddressGuard,
        *,
        resolver: Resolver | None = None,
        total_seconds: float = 30.0,
    ) -> None:
        self._client = client
        self._guard = guard
        self._resolver = resolver
        self._total_seconds = total_seconds

    def send(self, url: str, *, headers: dict[str, str], body: bytes) -> AttemptResult:
        """Never raises: whatever goes wrong is a failed attempt, recorded and retried."""
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            return self._send(url, headers=headers, body=body, started=started)
        except AddressRefused as exc:
            return AttemptResult(status_code=None, duration_ms=elapsed(), error=str(exc))
        except httpx.TimeoutException:
            return AttemptResult(
                status_code=None, duration_ms=elapsed(), error="timed out", timed_out=True
            )
        except Exception as exc:  # a broken URL, a refused connection, a bad answer
            return AttemptResult(
                status_code=None, duration_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500]
            )

    def _send(
        self, url: str, *, headers: dict[str, str], body: bytes, started: float
    ) -> AttemptResult:
        parts, address = self._guard.resolve(url, self._resolver)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        literal = f"[{address}]" if ":" in address else address
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        pinned = parts._replace(netloc=netloc).geturl()
        named = f"[{host}]" if ":" in host else host
        host_header = f"{named}:{parts.port}" if parts.port else named
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        with self._client.stream(
            "POST",
            pinned,
            content=body,
            headers={**headers, "host": host_header, "user-agent": USER_AGENT},
            extensions=extensions,
        ) as response:
            excerpt = _read_excerpt(response, deadline=started + self._total_seconds)
            return AttemptResult(
                status_code=response.status_code,
                duration_ms=int((time.monotonic() - started) * 1000),
                response_excerpt=excerpt,
                retry_after=_retry_after(response.headers.get("retry-after")),
            )


def _read_excerpt(response: httpx.Response, *, deadline: float) -> str:
    """At most RESPONSE_EXCERPT_BYTES of the body, and no reading past the attempt's deadline:
    a receiver that trickles its answer must not hold a sender for hours."""
    collected = b""
    for chunk in response.iter_bytes():
        collected += chunk
        if len(collected) >= RESPONSE_EXCERPT_BYTES or time.monotonic() > deadline:
            break
    return collected[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
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
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def make_http_client(timeout_seconds: float) -> httpx.Client:
    # No proxies from the environment: they would send our requests somewhere unchecked.
    # No keep-alive: connections are pooled by address, and a connection verified for one
    # partner's host name must never carry another's request to the same address.
    return httpx.Client(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=0),
    )
