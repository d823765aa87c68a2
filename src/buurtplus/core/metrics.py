"""What this process counts, in the Prometheus text format (served at GET /metrics).

Every process has its own registry: each `buurtplus serve` counts the requests it answered and
the signals reported through it, each `buurtplus worker` (or the worker inside `serve`) the
deliveries it sent and the jobs it ran. Prometheus scrapes every process and adds them up
(`sum by (...)`). Figures read from the database at scrape time (the outbox backlog) are the
same from every process: take one, or `max`.

Labels are route templates, status codes, category groups, job names and outcomes: never an
id, an address, an account or anything else a person could be found by.
"""

import hmac
import ipaddress
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

REGISTRY = CollectorRegistry(auto_describe=True)
# Memory, open file descriptors, CPU time, garbage collection: what a soak test watches.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "buurtplus_http_requests",
    "HTTP requests answered, by method, route template and status code",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "buurtplus_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
SIGNALS_REPORTED = Counter(
    "buurtplus_signals_reported",
    "Signals stored (a retried submission counts once), by category group",
    ["category_group"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "buurtplus_escalations",
    "Missed acknowledgement deadlines: escalated to the fallback partner, or without a fallback",
    ["result"],
    registry=REGISTRY,
)
WEBHOOK_ATTEMPTS = Counter(
    "buurtplus_webhook_attempts",
    "Webhook delivery attempts, by the partner's answer (2xx..5xx, or none) and what became of "
    "the delivery (delivered, retry, dead, or superseded when another worker had taken it over)",
    ["response", "outcome"],
    registry=REGISTRY,
)
WEBHOOK_ENDPOINTS_SWITCHED_OFF = Counter(
    "buurtplus_webhook_endpoints_switched_off",
    "Webhook endpoints this process switched off (failing for days, or 410 Gone)",
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "buurtplus_job_runs", "Runs of the periodic jobs, by job", ["job"], registry=REGISTRY
)
JOB_FAILURES = Counter(
    "buurtplus_job_failures",
    "Runs of the periodic jobs that failed, by job",
    ["job"],
    registry=REGISTRY,
)
JOB_LAST_SUCCESS = Gauge(
    "buurtplus_job_last_success_timestamp_seconds",
    "When each periodic job last finished without error (Unix time)",
    ["job"],
    registry=REGISTRY,
)

UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request (cheap: two dictionary look-ups and two additions)."""
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        shown = method if method in _METHODS else "other"
        children = (
            HTTP_REQUESTS.labels(shown, route, str(status)),
            HTTP_DURATION.labels(shown, route),
        )
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


# --- counted when the transaction commits ---

_ON_COMMIT = "buurtplus_metrics_on_commit"


def count_on_commit(session: Session, metric: MetricWrapperBase, amount: float = 1) -> None:
    """Add to `metric` (a counter with its labels chosen) when the session's transaction
    commits; nothing when it rolls back."""
    session.info.setdefault(_ON_COMMIT, []).append((metric, amount))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for metric, amount in session.info.pop(_ON_COMMIT, ()):
        metric.inc(amount)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


# --- who may read them ---

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class MetricsAccess:
    """Metrics are read with the configured bearer token, or from a configured network."""

    token: str | None = None
    networks: tuple[Network, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, token: str | None, networks: Iterable[str]) -> "MetricsAccess":
        return cls(token or None, tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    @property
    def enabled(self) -> bool:
        return bool(self.token or self.networks)

    def allows(self, *, authorization: str | None, address: str | None) -> bool:
        if self.token is not None and authorization:
            scheme, _, given = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), self.token.encode()
            ):
                return True
        if self.networks and address:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                return False
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            return any(ip in network for network in self.networks)
        return False


class _Together:
    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = list(collectors)

    def collect(self) -> Iterator[Any]:
        for collector in self._collectors:
            yield from collector.collect()


def render(*extra: Collector) -> tuple[bytes, str]:
    """This process's metrics and those of `extra` (read at scrape time), as text."""
    return generate_latest(_Together([REGISTRY, *extra])), CONTENT_TYPE_LATEST


# --- a metrics listener for processes that serve no HTTP (`buurtplus worker`) ---


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def metrics_wsgi_app(access: MetricsAccess, *extra: Collector) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "application/problem+json")])
            return [b'{"type":"urn:buurtplus:problem:not-found","title":"Not Found","status":404}']
        if not access.allows(
            authorization=environ.get("HTTP_AUTHORIZATION"), address=environ.get("REMOTE_ADDR")
        ):
            start_response("403 Forbidden", [("Content-Type", "application/problem+json")])
            return [
                b'{"type":"urn:buurtplus:problem:forbidden","title":"Forbidden","status":403,'
                b'"detail":"Metrics are read with the metrics token or from a configured '
                b'network."}'
            ]
        body, content_type = render(*extra)
        start_response("200 OK", [("Content-Type", content_type)])
        return [body]

    return app


def serve_metrics(
    host: str, port: int, access: MetricsAccess, *extra: Collector
) -> tuple[WSGIServer, threading.Thread]:
    """Serve GET /metrics on host:port in a thread of its own; `shutdown()` the server to stop."""
    server = make_server(host, port, metrics_wsgi_app(access, *extra), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="buurtplus-metrics", daemon=True)
    thread.start()
    return server, thread
