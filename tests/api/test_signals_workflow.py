"""The signal workflow: enforced steps, allowed_transitions, append-only history, If-Match."""

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

SIGNALS = "/api/v1/signals"


@pytest.fixture
def team(make: Factory) -> Team:
    return make.team(plus_mode=True)


@pytest.fixture
def reporter(make: Factory, team: Team) -> User:
    return make.member(team)


@pytest.fixture
def admin(make: Factory) -> dict[str, str]:
    return make.auth(make.user(UserRole.admin))


@pytest.fixture
def signal(make: Factory, reporter: User) -> Signal:
    return make.signal(reporter)


def step(
    client: TestClient,
    signal: Signal,
    action: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    **extra: str,
):  # type: ignore[no-untyped-def]
    return client.post(f"{SIGNALS}/{signal.id}/{action}", json=body, headers={**headers, **extra})


def test_the_reporter_withdraws_before_acknowledgement(
    client: TestClient, make: Factory, reporter: User, signal: Signal
) -> None:
    response = step(client, signal, "withdraw", make.auth(reporter), {"reason": "Vergissing"})

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["closed_at"] is not None
    assert response.json()["allowed_transitions"] == []
    again = step(client, signal, "withdraw", make.auth(reporter))
    assert again.status_code == 409
    assert again.json()["type"] == "urn:buurtplus:problem:transition-not-allowed"


def test_full_path_to_closure_with_history(
    client: TestClient, make: Factory, reporter: User, signal: Signal, admin: dict[str, str]
) -> None:
    make.route_to_partner(signal)
    assert client.get(f"{SIGNALS}/{signal.id}", headers=admin).json()["allowed_transitions"] == [
        "acknowledge",
        "close",
    ]

    acknowledged = step(client, signal, "acknowledge", admin, {"note": "Wij pakken het op"})
    too_late = step(client, signal, "withdraw", make.auth(reporter))
    started = step(client, signal, "start", admin)
    no_outcome = client.post(f"{SIGNALS}/{signal.id}/close", json={}, headers=admin)
    closed = step(client, signal, "close", admin, {"outcome": "handled"})

    assert acknowledged.json()["status"] == "acknowledged"
    assert too_late.status_code == 409
    assert started.json()["status"] == "in_progress"
    assert no_outcome.status_code == 422
    assert closed.json()["status"] == "closed"
    assert closed.json()["outcome"] == "handled"
    history = client.get(f"{SIGNALS}/{signal.id}/history", headers=make.auth(reporter)).json()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history["items"]] == [
        ("submit", None, "submitted"),
        ("route", "submitted", "routed"),
        ("acknowledge", "routed", "acknowledged"),
        ("start", "acknowledged", "in_progress"),
        ("close", "in_progress", "closed"),
    ]
    assert history["items"][2]["note"] == "Wij pakken het op"


def test_steps_that_skip_the_workflow_are_refused(
    client: TestClient, make: Factory, signal: Signal, admin: dict[str, str]
) -> None:
    assert step(client, signal, "start", admin).status_code == 409
    assert step(client, signal, "acknowledge", admin).status_code == 409
    assert client.get(f"{SIGNALS}/{signal.id}", headers=admin).json()["status"] == "submitted"


def test_the_coordinator_closes_a_duplicate_from_the_queue(
    client: TestClient, make: Factory, team: Team, signal: Signal
) -> None:
    coordinator = make.auth(make.coordinator(team))
    view = client.get(f"{SIGNALS}/{signal.id}", headers=coordinator).json()
    assert view["allowed_transitions"] == ["route", "close"]

    closed = step(client, signal, "close", coordinator, {"outcome": "duplicate"})

    assert closed.json()["outcome"] == "duplicate"


def test_the_coordinator_does_not_close_what_a_partner_handles(
    client: TestClient, make: Factory, team: Team, signal: Signal
) -> None:
    coordinator = make.auth(make.coordinator(team))
    make.route_to_partner(signal)

    response = step(client, signal, "close", coordinator, {"outcome": "no_action"})

    assert response.status_code == 403


def test_other_people_cannot_withdraw(
    client: TestClient, make: Factory, team: Team, signal: Signal
) -> None:
    teammate = make.auth(make.member(team))
    assert step(client, signal, "withdraw", teammate).status_code == 404


def test_etag_and_if_match_prevent_lost_updates(
    client: TestClient, make: Factory, reporter: User, signal: Signal, admin: dict[str, str]
) -> None:
    make.route_to_partner(signal)
    read = client.get(f"{SIGNALS}/{signal.id}", headers=admin)
    etag = read.headers["etag"]

    first = step(client, signal, "acknowledge", admin, **{"If-Match": etag})
    stale = step(client, signal, "close", admin, {"outcome": "handled"}, **{"If-Match": etag})
    garbage = step(
        client, signal, "close", admin, {"outcome": "handled"}, **{"If-Match": "not-a-version"}
    )

    assert first.status_code == 200
    assert first.headers["etag"] != etag
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:buurtplus:problem:stale-signal"
    assert garbage.status_code == 412
    current = client.get(f"{SIGNALS}/{signal.id}", headers=admin).json()
    assert current["status"] == "acknowledged"
    fresh = step(
        client,
        signal,
        "close",
        admin,
        {"outcome": "handled"},
        **{"If-Match": first.headers["etag"]},
    )
    assert fresh.status_code == 200


def test_concurrent_writers_with_the_same_etag_change_it_once(
    client: TestClient, make: Factory, signal: Signal, admin: dict[str, str]
) -> None:
    make.route_to_partner(signal)
    etag = client.get(f"{SIGNALS}/{signal.id}", headers=admin).headers["etag"]
    results: list[int] = []
    barrier = threading.Barrier(4)

    def act(action: str, body: dict[str, str] | None) -> None:
        barrier.wait()
        try:
            response = step(client, signal, action, admin, body, **{"If-Match": etag})
        except Exception:  # the server raised: what a client would see as a 500
            results.append(500)
            raise
        results.append(response.status_code)

    threads = [
        threading.Thread(target=act, args=(a, b))
        for a, b in [
            ("acknowledge", None),
            ("close", {"outcome": "handled"}),
            ("close", {"outcome": "no_action"}),
            ("acknowledge", None),
        ]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 4
    assert sorted(results).count(200) == 1
    assert all(code in (200, 409, 412) for code in results), results
    history = client.get(f"{SIGNALS}/{signal.id}/history", headers=admin).json()["items"]
    assert len(history) == 3  # submit, route, and the one change that won
