"""Scale-out on PostgreSQL: two API processes and two workers behave as one service.

Signals are reported through both servers at once while one worker is killed mid-way; every
partner receives every event exactly once by webhook-id (a repeat only as a retry with the same
id and body), the pull feed lists each event once with the same ids, and the escalation and
retention jobs ran once for their moment, not once per process.
"""

import itertools
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from buurtplus.background import interval_slot
from buurtplus.config import Settings
from buurtplus.core.audit.models import AuditEvent
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import transaction
from buurtplus.core.jobs import JobName, JobRun
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.workflow import Outcome, SignalStatus
from tests.conftest import TEST_SECRET
from tests.delivery.conftest import LOOPBACK, add_endpoint
from tests.fixtures.databases import settle_event_feed
from tests.fixtures.factories import PASSWORD, Factory
from tests.fixtures.receiver import Received, Receiver, Reply, running_receiver
from tests.fixtures.server import Running, start_server, start_worker

REPORTS = 40
REPORTERS = 4
Event = tuple[str, str]  # (type, signal id)


@pytest.fixture
def clock() -> FrozenClock:
    # The story starts long ago: a signal closed past the retention period, then signals
    # whose acknowledgement deadline passed days ago; the processes run on the real clock.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=400))


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    with ExitStack() as stack:
        running = {name: stack.enter_context(running_receiver()) for name in "ABC"}
        for receiver in running.values():
            # A little slow, so deliveries are in flight when a worker is killed.
            receiver.responder = lambda _: Reply(200, delay=0.02)
        yield running


@pytest.fixture
def processes() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        process.stop()


def events_of(received: list[Received]) -> dict[str, Event]:
    """Each webhook-id once, with the event it carries; a repeat must be the same request."""
    first: dict[str, Received] = {}
    for item in received:
        assert first.setdefault(item.webhook_id, item).body == item.body
    return {
        webhook_id: (item.json["type"], item.json["data"]["signal_id"])
        for webhook_id, item in first.items()
    }


def sign_in(base: str, email: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def read_feed(bases: list[str], auth: dict[str, str]) -> list[dict[str, Any]]:
    """The whole pull feed, each read through the next server in turn."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    for base in itertools.cycle(bases):
        params = {"limit": 10, **({"after": after} if after else {})}
        page = httpx.get(f"{base}/api/v1/partner/events", params=params, headers=auth).json()
        items.extend(page["items"])
        after = page["next_cursor"]
        if not page["has_more"]:
            return items
    raise AssertionError("unreachable")


def job_runs_over_two_escalation_moments(app: FastAPI, timeout_seconds: float = 30) -> list[JobRun]:
    """Every job run once the surviving worker has looked for overdue signals at two moments.

    The workers look every two seconds; a quick run may end before the second moment came.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        with transaction(app.state.engine) as session:
            runs = list(session.exec(select(JobRun).order_by(col(JobRun.started_at))))
        moments = {r.slot for r in runs if r.job == JobName.escalation and r.finished_at}
        if len(moments) >= 2 or time.monotonic() > deadline:
            return runs
        time.sleep(0.2)


def test_two_servers_and_two_workers_deliver_every_event_once_and_run_each_job_once(
    client: TestClient,
    app: FastAPI,
    settings: Settings,
    make: Factory,
    clock: FrozenClock,
    receivers: dict[str, Receiver],
    processes: list[Running],
) -> None:
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("several processes share PostgreSQL; on SQLite one process serves")
    team = make.team(plus_mode=True, buurt_codes=["BU0363AA01"])
    reporters = [make.member(team) for _ in range(REPORTERS)]
    wijkteam = make.partner("Sociaal wijkteam", kind="wijkteam")
    gemeente = make.partner("Gemeente", kind="gemeente")
    wijkagent = make.partner("Wijkagent", kind="politie")
    make.rule(wijkteam, categories=["loneliness"], ack_minutes=60, fallback_partner_id=gemeente.id)
    make.rule(wijkagent, categories=["suspicious_situation"], fallback_partner_id=gemeente.id)
    people = {"A": wijkteam, "B": gemeente, "C": wijkagent}
    partner_users = {name: make.partner_user(partner) for name, partner in people.items()}

    def report(reporter: Any, category: str, via: str | None = None) -> str:
        body = {"category": category, "description": "Al dagen niemand gezien.",
                "buurt_code": "BU0363AA01"}  # fmt: skip
        if via is None:
            answer = client.post("/api/v1/signals", json=body, headers=make.auth(reporter))
        else:
            answer = httpx.post(
                f"{via}/api/v1/signals", json=body, headers=tokens[reporter.id], timeout=60
            )
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "routed"
        return str(answer.json()["id"])

    # 400 days ago: a signal handled and closed; retention is due to purge it.
    old = report(reporters[0], "suspicious_situation")
    with transaction(app.state.engine) as session:
        closed = session.get(Signal, uuid.UUID(old))
        assert closed is not None
        closed.status, closed.outcome, closed.closed_at = (
            SignalStatus.closed,
            Outcome.handled,
            clock.now(),
        )
        session.add(closed)
    # Three days ago: endpoints, and two signals the wijkteam never acknowledged.
    clock.advance(days=397)
    for name, partner in people.items():
        add_endpoint(client, make, partner_users[name], partner, receivers[name].url)
    overdue = [report(reporters[0], "loneliness") for _ in range(2)]

    env = {
        "BUURTPLUS_DATABASE_URL": settings.database_url,
        "BUURTPLUS_JWT_SECRET": TEST_SECRET,
        "BUURTPLUS_WEBHOOK_ALLOW_NETWORKS": ",".join(LOOPBACK),
        "BUURTPLUS_LOG_JSON": "false",
        "BUURTPLUS_LOG_LEVEL": "INFO",
    }
    started_at = datetime.now(UTC)
    servers = [start_server({**env, "BUURTPLUS_WORKER": "off"}) for _ in range(2)]
    processes.extend(server for server, _ in servers)
    bases = [base for _, base in servers]
    worker_env = {
        **env,
        "BUURTPLUS_JOB_INTERVAL_SECONDS": "2",
        "BUURTPLUS_WEBHOOK_TIMEOUT_SECONDS": "3",
        "BUURTPLUS_WEBHOOK_LEASE_SECONDS": "5",
        "BUURTPLUS_WEBHOOK_POLL_SECONDS": "0.5",
        "BUURTPLUS_WEBHOOK_CONCURRENCY": "2",
    }
    workers = [start_worker(worker_env, ready=False) for _ in range(2)]
    processes.extend(workers)
    for worker in workers:
        worker.wait_for_output("delivery worker ready")

    tokens = {r.id: sign_in(bases[n % 2], r.email) for n, r in enumerate(reporters)}
    categories = {"loneliness": "A", "suspicious_situation": "C"}

    def one(n: int) -> tuple[str, str]:
        category = list(categories)[n % 2]
        return report(reporters[n % REPORTERS], category, via=bases[n // 2 % 2]), category

    with ThreadPoolExecutor(REPORTERS) as pool:
        reported = pool.map(one, range(REPORTS))
        # Mid-way: one worker dies without a word, holding whatever it had claimed.
        receivers["A"].wait_for(REPORTS // 6, timeout=60)
        workers[0].send_signal(9)
        reported_ids = list(reported)
    assert workers[0].wait() == -9

    expected: dict[str, set[Event]] = defaultdict(set)
    for signal_id, category in reported_ids:
        expected[categories[category]].add(("signal.routed", signal_id))
    for signal_id in overdue:
        expected["A"] |= {("signal.routed", signal_id), ("signal.rerouted", signal_id)}
        expected["B"].add(("signal.escalated", signal_id))
    total = {name: len(events) for name, events in expected.items()}
    for name, receiver in receivers.items():
        receiver.wait_for(total[name], timeout=60)

    settle_event_feed(app.state.engine)  # the feed hands out what older transactions left
    for name, receiver in receivers.items():
        received = events_of(receiver.received)
        # Exactly once by webhook-id: no event under two ids, none missing, none extra.
        assert Counter(received.values()).most_common(1)[0][1] == 1
        assert set(received.values()) == expected[name]
        feed = read_feed(bases, sign_in(bases[0], partner_users[name].email))
        assert len({item["id"] for item in feed}) == len(feed)
        ours = {item["id"]: (item["type"], item["data"]["signal_id"]) for item in feed}
        assert ours == received

    # Each overdue signal escalated once; the old signal purged by one retention run.
    runs = job_runs_over_two_escalation_moments(app)
    with transaction(app.state.engine) as session:
        purged = session.get(Signal, uuid.UUID(old))
        purges = session.exec(select(AuditEvent).where(AuditEvent.action == "signal.purge")).all()
        escalations = session.exec(
            select(AuditEvent).where(AuditEvent.action == "signal.escalate")
        ).all()
    assert purged is not None and purged.description is None and purged.purged_at is not None
    assert len(purges) == 1
    assert len(escalations) == len(overdue)
    hours = {interval_slot(t, 3600) for t in (started_at, datetime.now(UTC))}
    retention = [r for r in runs if r.job == JobName.retention]
    # Two workers started and looked every two seconds, yet retention ran once an hour.
    assert interval_slot(started_at, 3600) in {r.slot for r in retention}
    assert len(retention) <= len(hours)
    escalation = [r for r in runs if r.job == JobName.escalation]
    assert len({r.slot for r in escalation}) == len(escalation) >= 2
    assert all(r.error is None for r in runs)
