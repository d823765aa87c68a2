"""Retention purges personal content of closed signals; a member downloads their own data."""

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from buurtplus.background import purge_personal_content
from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.patrols.models import Patrol
from buurtplus.domain.signals.models import Feedback, Signal, SignalEvent
from buurtplus.domain.users.models import User
from buurtplus.main import create_app
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.fixtures.patrols import PATROLS, seen
from tests.fixtures.server import run_cli

SIGNALS = "/api/v1/signals"


def closed_signal_with_feedback(client: TestClient, make: Factory) -> tuple[Signal, User]:
    team = make.team(plus_mode=True)
    reporter = make.member(team)
    admin_user = make.user(UserRole.admin)
    admin = make.auth(admin_user)
    signal = make.signal(
        reporter,
        category="loneliness",
        description="Mevrouw op 3 hoog.",
        latitude=52.36,
        longitude=4.92,
        address="Dapperstraat 3",
        postcode="1093BS",
        buurt_code="BU0363AA01",
    )
    client.post(
        f"{SIGNALS}/{signal.id}/feedback", json={"message": "Wij gaan langs."}, headers=admin
    )
    client.post(
        f"{SIGNALS}/{signal.id}/close",
        json={"outcome": "referred", "note": "Doorverwezen naar buurtzorg"},
        headers=admin,
    )
    return signal, admin_user


def test_purge_removes_personal_content_after_the_retention_period(
    client: TestClient, make: Factory, clock: FrozenClock
) -> None:
    signal, admin_user = closed_signal_with_feedback(client, make)
    engine = client.app.state.engine  # type: ignore[attr-defined]

    clock.advance(days=364)
    early = purge_personal_content(engine, retention_days=365, clock=clock)
    clock.advance(days=2)
    report = purge_personal_content(engine, retention_days=365, clock=clock)
    again = purge_personal_content(engine, retention_days=365, clock=clock)

    assert early.signals == 0
    assert (report.signals, report.feedback_messages, report.history_notes) == (1, 1, 1)
    assert again.signals == 0
    admin = make.auth(admin_user)  # the clock moved a year: a fresh token
    body = client.get(f"{SIGNALS}/{signal.id}", headers=admin).json()
    assert body["purged"] is True
    assert body["description"] is None
    assert body["location"] is None
    assert body["address"] is None
    assert body["postcode"] == "1093"
    assert (body["category"]["code"], body["buurt_code"], body["outcome"]) == (
        "loneliness",
        "BU0363AA01",
        "referred",
    )
    assert body["observed_at"] and body["closed_at"]
    feedback = client.get(f"{SIGNALS}/{signal.id}/feedback", headers=admin).json()["items"]
    assert feedback[0]["message"] is None
    with Session(engine) as session:
        assert all(e.note is None for e in session.exec(select(SignalEvent)))
        assert len(session.exec(select(Feedback)).all()) == 1


def test_open_signals_are_never_purged(
    client: TestClient, make: Factory, clock: FrozenClock
) -> None:
    reporter = make.member(make.team())
    signal = make.signal(reporter)
    clock.advance(days=4000)

    report = purge_personal_content(
        client.app.state.engine,  # type: ignore[attr-defined]
        retention_days=30,
        clock=clock,
    )

    assert report.signals == 0
    body = client.get(f"{SIGNALS}/{signal.id}", headers=make.auth(reporter)).json()
    assert body["description"]


def test_the_inline_worker_purges_periodically(clean_database: str, clock: FrozenClock) -> None:
    settings = make_settings(
        clean_database, worker="inline", job_interval_seconds=1, retention_days=1
    )
    app = create_app(settings, clock=clock)
    from tests.fixtures.factories import Factory as Make

    make = Make(app)
    with TestClient(app) as client:
        signal, admin_user = closed_signal_with_feedback(client, make)
        clock.advance(days=3)
        admin = make.auth(admin_user)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            body = client.get(f"{SIGNALS}/{signal.id}", headers=admin).json()
            if body["purged"]:
                break
            time.sleep(0.2)
    app.state.engine.dispose()

    assert body["purged"] is True
    assert body["description"] is None


def test_retention_purge_command_reports_what_it_did(tmp_path: Path) -> None:
    env = {"BUURTPLUS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    run_cli("db", "upgrade", env=env)

    result = run_cli("retention", "purge", env={**env, "BUURTPLUS_RETENTION_DAYS": "30"})

    assert result.returncode == 0, result.stderr
    assert "Purged personal content of 0 signal(s) closed more than 30 days ago" in result.stdout


def test_a_member_downloads_everything_held_about_them(client: TestClient, make: Factory) -> None:
    team = make.team(name="Oosterpark", plus_mode=True)
    member = make.member(team)
    someone_else = make.member(team)
    admin = make.auth(make.user(UserRole.admin))
    mine = make.signal(member, category="loneliness", description="Mijn melding")
    make.signal(someone_else, description="Niet van mij")
    client.post(f"{SIGNALS}/{mine.id}/feedback", json={"message": "Opgepakt"}, headers=admin)

    response = client.get("/api/v1/me/export", headers=make.auth(member))

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["account"]["email"] == member.email
    assert [m["team_name"] for m in data["memberships"]] == ["Oosterpark"]
    assert [s["description"] for s in data["signals"]] == ["Mijn melding"]
    assert data["signals"][0]["feedback"][0]["message"] == "Opgepakt"
    assert data["signals"][0]["history"][0]["to_status"] == "submitted"
    assert "Niet van mij" not in response.text
    assert "password" not in response.text
    exports = client.get(
        "/api/v1/audit-events", params={"action": "user.export"}, headers=admin
    ).json()["items"]
    assert [e["actor_id"] for e in exports] == [str(member.id)]


def test_the_personal_export_holds_ones_rounds_observations_and_feed_token_date(
    client: TestClient, make: Factory, patrol: Patrol, walker: User, buddy: User
) -> None:
    auth = make.auth(walker)
    observed = seen(kind="contact_with_resident")
    client.post(f"{PATROLS}/{patrol.id}/observations", json=observed, headers=auth)
    client.post("/api/v1/me/feed-token", headers=auth)
    exported = client.get("/api/v1/me/export", headers=auth).json()
    assert [p["patrol_id"] for p in exported["patrols"]] == [str(patrol.id)]
    assert exported["patrols"][0]["status"] == "active"
    (observation,) = exported["observations"]
    assert observation["note"] == observed["note"]
    assert exported["feed_token_created_at"] is not None
    assert "token" not in exported and "token_hash" not in str(exported)
    others = client.get("/api/v1/me/export", headers=make.auth(buddy)).json()
    assert others["observations"] == []
