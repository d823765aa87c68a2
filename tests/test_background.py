"""Periodic jobs run once per due moment, however many processes share the database."""

import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from buurtplus.background import Job, PeriodicJobs
from buurtplus.config import Settings
from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import make_engine, transaction
from buurtplus.core.jobs import JobName, JobRun
from buurtplus.outbox.models import WebhookEvent
from tests.fixtures.factories import Factory


@pytest.fixture
def two_processes(
    app: FastAPI, settings: Settings, clock: FrozenClock
) -> Iterator[list[PeriodicJobs]]:
    """The jobs of two processes: each its own engine (its own connections) on one database."""
    other = make_engine(settings.database_url)
    yield [
        PeriodicJobs(
            engine,
            clock=clock,
            retention_days=365,
            interval_seconds=60,
            router=app.state.router,
            runner=f"process-{n}",
        )
        for n, engine in enumerate((app.state.engine, other))
    ]
    other.dispose()


def at_once(processes: list[PeriodicJobs]) -> list[dict[JobName, int]]:
    """Every process looks for due jobs at the same moment."""
    start = threading.Barrier(len(processes))
    results: list[dict[JobName, int]] = [{} for _ in processes]

    def look(n: int) -> None:
        start.wait()
        results[n] = processes[n].run_due()

    threads = [threading.Thread(target=look, args=(n,)) for n in range(len(processes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def job_runs(app: FastAPI) -> list[JobRun]:
    with transaction(app.state.engine) as session:
        return list(session.exec(select(JobRun).order_by(col(JobRun.job), col(JobRun.slot))))


def test_two_processes_escalate_a_missed_deadline_once_and_purge_once_an_hour(
    client: TestClient,
    app: FastAPI,
    make: Factory,
    clock: FrozenClock,
    two_processes: list[PeriodicJobs],
) -> None:
    team = make.team(plus_mode=True, buurt_codes=["BU0363AA01"])
    reporter = make.member(team)
    wijkteam, gemeente = make.partner("Wijkteam"), make.partner("Gemeente", kind="gemeente")
    make.rule(wijkteam, ack_minutes=60, fallback_partner_id=gemeente.id)
    reported = client.post(
        "/api/v1/signals",
        json={
            "category": "suspicious_situation",
            "description": "Iemand probeert bij nummer 12 deuren open te maken.",
            "buurt_code": "BU0363AA01",
        },
        headers=make.auth(reporter),
    )
    assert reported.json()["status"] == "routed"
    signal_id = reported.json()["id"]
    clock.advance(minutes=61)

    first = at_once(two_processes)

    # One of them escalated the signal, the other found the moment taken.
    assert sorted(r.get(JobName.escalation, -1) for r in first) == [-1, 1]
    assert sorted(JobName.retention in r for r in first) == [False, True]
    admin = make.auth(make.user(UserRole.admin))
    seen = client.get(f"/api/v1/signals/{signal_id}", headers=admin).json()
    assert seen["partner_id"] == str(gemeente.id)
    history = client.get(f"/api/v1/signals/{signal_id}/history", headers=admin).json()["items"]
    assert [step["action"] for step in history].count("escalate") == 1
    with transaction(app.state.engine) as session:
        escalated = session.exec(
            select(WebhookEvent).where(WebhookEvent.type == "signal.escalated")
        ).all()
    assert len(escalated) == 1

    # A minute later escalation is due again (once); retention not before the next hour.
    clock.advance(minutes=1)
    at_once(two_processes)
    clock.advance(hours=1)
    at_once(two_processes)

    runs = job_runs(app)
    assert [r.slot for r in runs if r.job == JobName.escalation] == [
        "2026-03-02T10:31:00Z",
        "2026-03-02T10:32:00Z",
        "2026-03-02T11:32:00Z",
    ]
    retention = [r for r in runs if r.job == JobName.retention]
    assert [r.slot for r in retention] == ["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"]
    assert [r.slot for r in runs if r.job == JobName.aed_expiry] == ["2026-03-02"]
    assert all(r.finished_at is not None and r.error is None for r in runs)
    assert {r.runner for r in runs} <= {"process-0", "process-1"}


def test_a_failed_run_is_taken_again_by_the_next_look(
    app: FastAPI, clock: FrozenClock, two_processes: list[PeriodicJobs]
) -> None:
    first, second = two_processes
    attempts: list[str] = []

    def purge(runner: str) -> int:
        attempts.append(runner)
        if len(attempts) == 1:
            raise ConnectionError("the database went away")
        return 0

    hourly = first.jobs[1].slot
    first.jobs = (Job(JobName.retention, hourly, lambda: purge("process-0")),)
    second.jobs = (Job(JobName.retention, hourly, lambda: purge("process-1")),)

    assert first.run_due() == {}
    (failed,) = job_runs(app)
    assert failed.error == "ConnectionError" and failed.runner == "process-0"

    assert second.run_due() == {JobName.retention: 0}
    assert first.run_due() == {}  # done now: nobody runs it again in this hour
    (done,) = job_runs(app)
    assert (done.runner, done.error, done.attempts) == ("process-1", None, 2)
    assert attempts == ["process-0", "process-1"]
