"""A volunteer reports a signal and gets advice at once; retries never make a second one."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from buurtplus.core.actor import Actor, TeamRole, UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import transaction
from buurtplus.domain.signals import intake
from buurtplus.domain.signals.errors import TeamRequired
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.teams.models import Team
from buurtplus.domain.teams.service import delete_team, load_actor
from buurtplus.domain.users.models import User
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory

SIGNALS = "/api/v1/signals"


def report(**fields: Any) -> dict[str, Any]:
    return {
        "category": "suspicious_situation",
        "description": "Twee mannen kijken bij de achterdeuren naar binnen.",
        "location": {"latitude": 52.3601, "longitude": 4.9215},
        "postcode": "1091 ab",
        "buurt_code": "BU0363MA01",
        "observed_at": "2026-03-02T10:15:00+01:00",
        "urgency": "normal",
        **fields,
    }


def stored_signals(client: TestClient) -> int:
    app: Any = client.app
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(Signal)).one()


@pytest.fixture
def plus_team(make: Factory) -> Team:
    return make.team(name="Plus-team", plus_mode=True)


@pytest.fixture
def reporter(make: Factory, plus_team: Team) -> User:
    return make.member(plus_team)


def test_a_member_reports_and_gets_the_signal_and_advice(
    client: TestClient, make: Factory, reporter: User, plus_team: Team
) -> None:
    response = client.post(SIGNALS, json=report(), headers=make.auth(reporter))

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/api/v1/signals/{body['id']}"
    assert uuid.UUID(body["id"]).version == 7  # time-ordered (core/ids.py)
    assert response.headers["etag"] == '"2"'  # stored, then routed in the same transaction
    assert body["status"] == "unroutable"  # no routing rules in this test
    assert body["routing_explanation"].startswith("No routing rule matched")
    assert body["team_id"] == str(plus_team.id)
    assert body["reporter_id"] == str(reporter.id)
    assert body["category"]["code"] == "suspicious_situation"
    assert body["category"]["label_nl"] == "Verdachte situatie"
    assert body["postcode"] == "1091AB"
    assert body["location"] == {"latitude": 52.3601, "longitude": 4.9215}
    assert body["observed_at"] == "2026-03-02T09:15:00Z"
    assert body["detail_level"] == "full"
    assert body["allowed_transitions"] == ["withdraw"]
    assert body["advice"]["call_112"] is False
    assert any("0900-8844" in line for line in body["advice"]["nl"])
    assert any("0900-8844" in line for line in body["advice"]["en"])
    fetched = client.get(f"{SIGNALS}/{body['id']}", headers=make.auth(reporter)).json()
    assert {k: v for k, v in body.items() if k != "advice"} == fetched


def test_acute_urgency_always_says_call_112(
    client: TestClient, make: Factory, reporter: User
) -> None:
    acute = client.post(
        SIGNALS, json=report(category="public_space", urgency="acute"), headers=make.auth(reporter)
    ).json()
    called = client.post(
        SIGNALS,
        json=report(category="public_space", urgency="acute", emergency_called=True),
        headers=make.auth(reporter),
    ).json()

    assert acute["advice"]["call_112"] is True
    assert acute["advice"]["nl"][0] == "Acuut gevaar? Bel nu 112."
    assert acute["advice"]["en"][0] == "Acute danger? Call 112 now."
    assert called["advice"]["call_112"] is False
    assert "112 al gebeld" in called["advice"]["nl"][0]


def test_domestic_violence_advice_names_112_and_veilig_thuis(
    client: TestClient, make: Factory, reporter: User
) -> None:
    body = client.post(
        SIGNALS, json=report(category="domestic_violence"), headers=make.auth(reporter)
    ).json()

    assert "112" in body["advice"]["nl"][0]
    assert "Veilig Thuis, 0800-2000" in body["advice"]["nl"][0]


def test_social_category_is_refused_for_a_team_without_plus_mode(
    client: TestClient, make: Factory
) -> None:
    member = make.member(make.team(plus_mode=False))

    response = client.post(SIGNALS, json=report(category="loneliness"), headers=make.auth(member))

    assert response.status_code == 422
    assert response.json()["type"] == "urn:buurtplus:problem:plus-mode-required"
    assert response.json()["errors"][0]["field"] == "body.category"
    assert "112" in response.json()["detail"]
    assert stored_signals(client) == 0


def test_the_same_idempotency_key_returns_the_original_signal(
    client: TestClient, make: Factory, reporter: User
) -> None:
    headers = {**make.auth(reporter), "Idempotency-Key": "phone-42-attempt"}

    first = client.post(SIGNALS, json=report(), headers=headers)
    again = client.post(SIGNALS, json=report(), headers=headers)
    changed = client.post(SIGNALS, json=report(description="Iets anders"), headers=headers)

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert changed.status_code == 422
    assert changed.json()["type"] == "urn:buurtplus:problem:idempotency-key-reused"
    assert changed.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert stored_signals(client) == 1


@pytest.mark.parametrize("retry_by", ["Idempotency-Key", "id"])
def test_a_retry_gets_the_first_answer_where_the_report_would_now_be_refused(
    client: TestClient, make: Factory, plus_team: Team, reporter: User, retry_by: str
) -> None:
    headers = make.auth(reporter)
    body = report(category="loneliness")
    if retry_by == "id":
        body["id"] = str(uuid.uuid4())
    else:
        headers["Idempotency-Key"] = "phone-7-attempt"
    first = client.post(SIGNALS, json=body, headers=headers)
    # The team leaves Plus mode: social categories are refused from now on.
    app: Any = client.app
    with transaction(app.state.engine) as session:
        team = session.get(Team, plus_team.id)
        assert team is not None
        team.plus_mode = False
        session.add(team)

    again = client.post(SIGNALS, json=body, headers=headers)
    new = client.post(SIGNALS, json=report(category="loneliness"), headers=make.auth(reporter))

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert new.status_code == 422
    assert new.json()["type"] == "urn:buurtplus:problem:plus-mode-required"
    assert stored_signals(client) == 1


def test_idempotency_keys_belong_to_one_reporter(
    client: TestClient, make: Factory, plus_team: Team, reporter: User
) -> None:
    other = make.member(plus_team)
    key = {"Idempotency-Key": "same-key"}

    mine = client.post(SIGNALS, json=report(), headers={**make.auth(reporter), **key})
    theirs = client.post(SIGNALS, json=report(), headers={**make.auth(other), **key})

    assert mine.json()["id"] != theirs.json()["id"]
    assert stored_signals(client) == 2


def test_a_client_chosen_id_makes_a_retry_harmless(
    client: TestClient, make: Factory, plus_team: Team, reporter: User
) -> None:
    signal_id = str(uuid.uuid4())

    first = client.post(SIGNALS, json=report(id=signal_id), headers=make.auth(reporter))
    retry = client.post(SIGNALS, json=report(id=signal_id), headers=make.auth(reporter))
    other = client.post(
        SIGNALS, json=report(id=signal_id), headers=make.auth(make.member(plus_team))
    )

    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"] == signal_id
    assert other.status_code == 409
    assert stored_signals(client) == 1


def test_the_team_must_be_named_by_a_member_of_several(
    client: TestClient, make: Factory, plus_team: Team, reporter: User
) -> None:
    second = make.team(plus_mode=True)
    make.member(second, reporter)

    unnamed = client.post(SIGNALS, json=report(), headers=make.auth(reporter))
    named = client.post(SIGNALS, json=report(team_id=str(second.id)), headers=make.auth(reporter))
    foreign = client.post(
        SIGNALS, json=report(team_id=str(make.team().id)), headers=make.auth(reporter)
    )

    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"] == "body.team_id"
    assert named.status_code == 201
    assert named.json()["team_id"] == str(second.id)
    assert foreign.status_code == 422


@pytest.mark.parametrize("role", [UserRole.admin, UserRole.partner])
def test_only_volunteers_report(client: TestClient, make: Factory, role: UserRole) -> None:
    response = client.post(SIGNALS, json=report(), headers=make.auth(make.user(role)))
    assert response.status_code == 403


def test_a_volunteer_in_no_team_is_told_so(client: TestClient, make: Factory) -> None:
    response = client.post(SIGNALS, json=report(), headers=make.auth(make.user()))
    assert response.status_code == 422
    assert "no team" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"location": {"latitude": 91, "longitude": 4.9}}, "body.location.latitude"),
        ({"location": {"latitude": 52.3, "longitude": -181}}, "body.location.longitude"),
        ({"location": {"latitude": "north", "longitude": 4.9}}, "body.location.latitude"),
        ({"postcode": "0123 AB"}, "body.postcode"),
        ({"postcode": "1091 A"}, "body.postcode"),
        ({"buurt_code": "BU123"}, "body.buurt_code"),
        ({"category": "alien_invasion"}, "body.category"),
        ({"category": "Not A Code"}, "body.category"),
        ({"description": ""}, "body.description"),
        ({"description": "   "}, "body.description"),
        ({"description": "x" * 4001}, "body.description"),
        ({"observed_at": "2026-03-02T11:00:00+01:00"}, "body.observed_at"),
        ({"observed_at": "2026-03-02T09:00:00"}, "body.observed_at"),
        ({"urgency": "panic"}, "body.urgency"),
        ({"emergency_called": "yes"}, "body.emergency_called"),
        ({"reporter_id": str(uuid.uuid4())}, "body.reporter_id"),
        ({"location": None, "postcode": None, "buurt_code": None}, "body"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_stored(
    client: TestClient, make: Factory, reporter: User, fields: dict[str, Any], bad_field: str
) -> None:
    response = client.post(SIGNALS, json=report(**fields), headers=make.auth(reporter))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(e["field"].startswith(bad_field) for e in response.json()["errors"]), response.json()
    assert stored_signals(client) == 0


def test_a_little_clock_skew_is_not_the_future(
    client: TestClient, make: Factory, reporter: User, clock: FrozenClock
) -> None:
    soon = clock.now().replace(minute=clock.now().minute + 3).isoformat()
    response = client.post(SIGNALS, json=report(observed_at=soon), headers=make.auth(reporter))
    assert response.status_code == 201


def test_observed_at_defaults_to_now(
    client: TestClient, make: Factory, reporter: User, clock: FrozenClock
) -> None:
    fields = report()
    del fields["observed_at"]
    response = client.post(SIGNALS, json=fields, headers=make.auth(reporter))
    assert response.json()["observed_at"] == "2026-03-02T09:30:00Z"


@pytest.mark.parametrize("moment", [999999999, 1772443800.5, "1772443800", True])
def test_a_moment_must_be_an_iso_8601_string_not_a_unix_time(
    client: TestClient, make: Factory, reporter: User, moment: Any
) -> None:
    response = client.post(SIGNALS, json=report(observed_at=moment), headers=make.auth(reporter))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].endswith("observed_at")


def test_a_retired_category_takes_no_new_signals(
    client: TestClient, make: Factory, reporter: User
) -> None:
    admin = make.auth(make.user(UserRole.admin))
    url = "/api/v1/categories/trailer_parking"
    retired = client.patch(url, json={"active": False}, headers=if_match(client, url, admin))
    assert retired.status_code == 200

    response = client.post(
        SIGNALS, json=report(category="trailer_parking"), headers=make.auth(reporter)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.category"


def test_text_is_stored_and_returned_verbatim(
    client: TestClient, make: Factory, reporter: User
) -> None:
    text = (
        "<b>Let op</b> & 'quote' \"dubbel\" -- ; DROP TABLE signals; "
        "\u00e9\u00e8 \U0001f6a8\n2e regel"
    )
    body = client.post(
        SIGNALS,
        json=report(description=text, address="Dapperstraat 1 <a>"),
        headers=make.auth(reporter),
    ).json()

    fetched = client.get(f"{SIGNALS}/{body['id']}", headers=make.auth(reporter)).json()
    assert fetched["description"] == text
    assert fetched["address"] == "Dapperstraat 1 <a>"


def test_broken_unicode_is_refused_not_a_server_error(
    client: TestClient, make: Factory, reporter: User
) -> None:
    raw = (
        b'{"category": "suspicious_situation", "description": "\\ud800 alone", '
        b'"postcode": "1091AB"}'
    )
    response = client.post(
        SIGNALS, content=raw, headers={**make.auth(reporter), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert stored_signals(client) == 0


def test_coordinators_report_too(client: TestClient, make: Factory, plus_team: Team) -> None:
    coordinator = make.member(plus_team, team_role=TeamRole.coordinator)
    response = client.post(SIGNALS, json=report(), headers=make.auth(coordinator))
    assert response.status_code == 201


def test_a_report_whose_team_is_deleted_while_it_is_stored_is_refused_with_the_reason(
    client: TestClient, make: Factory, clock: FrozenClock
) -> None:
    """Checked, then its team deleted before the writer stored it: the answer says the team is
    not one the reporter belongs to (as it would have a moment earlier), not a server error."""
    app: Any = client.app
    team = make.team()
    reporter = make.member(team)
    draft = intake.SignalDraft(
        category="suspicious_situation", description="Deurklinken", postcode="1091AB"
    )
    with transaction(app.state.engine) as session:
        actor = load_actor(session, user=reporter)
    with transaction(app.state.engine, write=False) as session:
        planned = intake.plan_signal(
            session, actor=actor, draft=draft, idempotency_key="k-1", clock=clock
        )
    assert isinstance(planned, intake.PlannedSignal)
    admin = Actor(user_id=uuid.uuid4(), role=UserRole.admin)
    with transaction(app.state.engine) as session:
        delete_team(session, actor=admin, team_id=team.id, clock=clock)

    with pytest.raises(IntegrityError) as stored:
        app.state.writer.run(planned.rows)
    with transaction(app.state.engine, write=False) as session, pytest.raises(TeamRequired):
        intake.after_conflict(session, planned, stored.value)
    with Session(app.state.engine) as session:
        assert session.exec(select(func.count()).select_from(Signal)).one() == 0
