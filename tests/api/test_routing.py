"""Signals reach the right partner, never silently none; partners handle or decline them."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.background import escalate_missed_deadlines
from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory

SIGNALS = "/api/v1/signals"
OFFICE_HOURS = "Mo-Fr 08:30-17:00; PH off"


def report(**fields: Any) -> dict[str, Any]:
    return {
        "category": "loneliness",
        "description": "Buurman komt de deur niet meer uit.",
        "buurt_code": "BU0363AA01",
        **fields,
    }


@pytest.fixture
def team(make: Factory) -> Team:
    return make.team(plus_mode=True, buurt_codes=["BU0363AA01"])


@pytest.fixture
def reporter(make: Factory, team: Team) -> User:
    return make.member(team)


@pytest.fixture
def wijkteam(make: Factory) -> Partner:
    return make.partner("Sociaal wijkteam Oost")


@pytest.fixture
def gemeente(make: Factory) -> Partner:
    return make.partner("Gemeente", kind="gemeente")


@pytest.fixture
def rules(make: Factory, wijkteam: Partner, gemeente: Partner) -> None:
    make.rule(
        wijkteam,
        name="Wijkteam in kantooruren",
        categories=["loneliness"],
        time_window=OFFICE_HOURS,
        fallback_partner_id=gemeente.id,
        ack_minutes=60,
    )
    make.rule(gemeente, name="Vangnet", priority=-10)


def submit(client: TestClient, make: Factory, reporter: User, **fields: Any) -> dict[str, Any]:
    response = client.post(SIGNALS, json=report(**fields), headers=make.auth(reporter))
    assert response.status_code == 201, response.text
    return response.json()


def test_a_signal_is_routed_in_office_hours_to_the_wijkteam(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner, rules: None
) -> None:
    signal = submit(client, make, reporter)  # Monday 10:30 in Amsterdam

    assert signal["status"] == "routed"
    assert signal["partner_id"] == str(wijkteam.id)
    assert "Wijkteam in kantooruren" in signal["routing_explanation"]
    assert signal["ack_deadline"] == "2026-03-02T10:30:00Z"
    history = client.get(f"{SIGNALS}/{signal['id']}/history", headers=make.auth(reporter))
    assert [(e["action"], e["to_status"]) for e in history.json()["items"]] == [
        ("submit", "submitted"),
        ("route", "routed"),
    ]


def test_outside_office_hours_the_catch_all_rule_takes_it(
    client: TestClient,
    make: Factory,
    reporter: User,
    gemeente: Partner,
    rules: None,
    clock: FrozenClock,
) -> None:
    clock.advance(hours=10)  # 20:30 in Amsterdam
    signal = submit(client, make, reporter)

    assert signal["partner_id"] == str(gemeente.id)
    assert "Vangnet" in signal["routing_explanation"]


def test_no_matching_rule_is_never_silent(
    client: TestClient, make: Factory, team: Team, reporter: User, wijkteam: Partner
) -> None:
    make.rule(wijkteam, categories=["neglect"])
    signal = submit(client, make, reporter)
    coordinator = make.auth(make.coordinator(team))

    queue = client.get(SIGNALS, params={"status": "unroutable"}, headers=coordinator).json()
    routed = client.post(
        f"{SIGNALS}/{signal['id']}/route",
        json={"partner_id": str(wijkteam.id), "note": "Bekend bij wijkteam"},
        headers=coordinator,
    )

    assert signal["status"] == "unroutable"
    assert [item["id"] for item in queue["items"]] == [signal["id"]]
    assert routed.status_code == 200
    assert routed.json()["status"] == "routed"


def test_the_partner_handles_the_signal_and_the_reporter_hears_back(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner, rules: None
) -> None:
    signal = submit(client, make, reporter)
    partner = make.auth(make.partner_user(wijkteam))
    url = f"{SIGNALS}/{signal['id']}"

    seen = client.get(url, headers=partner).json()
    acknowledged = client.post(f"{url}/acknowledge", headers=partner)
    feedback = client.post(
        f"{url}/feedback", json={"message": "We gaan op bezoek."}, headers=partner
    )
    closed = client.post(f"{url}/close", json={"outcome": "handled"}, headers=partner)

    assert seen["detail_level"] == "full"
    assert seen["allowed_transitions"] == ["acknowledge", "reject", "close"]
    assert acknowledged.json()["status"] == "acknowledged"
    assert feedback.status_code == 201
    assert closed.json()["status"] == "closed"
    mine = client.get(f"{url}/feedback", headers=make.auth(reporter)).json()["items"]
    assert [f["message"] for f in mine] == ["We gaan op bezoek."]


def test_other_partners_see_nothing(
    client: TestClient, make: Factory, reporter: User, rules: None
) -> None:
    signal = submit(client, make, reporter)
    stranger = make.auth(make.user(UserRole.partner))

    assert client.get(f"{SIGNALS}/{signal['id']}", headers=stranger).status_code == 404
    assert client.get(SIGNALS, headers=stranger).json()["items"] == []
    assert client.post(f"{SIGNALS}/{signal['id']}/acknowledge", headers=stranger).status_code == 404


def test_not_ours_reroutes_to_the_next_candidate(
    client: TestClient,
    make: Factory,
    reporter: User,
    wijkteam: Partner,
    gemeente: Partner,
    rules: None,
) -> None:
    signal = submit(client, make, reporter)
    partner = make.auth(make.partner_user(wijkteam))

    rejected = client.post(
        f"{SIGNALS}/{signal['id']}/reject", json={"reason": "Geen wijkteam-casus"}, headers=partner
    )

    assert rejected.status_code == 200
    assert client.get(f"{SIGNALS}/{signal['id']}", headers=partner).status_code == 404
    admin = make.auth(make.user(UserRole.admin))
    now = client.get(f"{SIGNALS}/{signal['id']}", headers=admin).json()
    assert now["partner_id"] == str(gemeente.id)
    history = client.get(f"{SIGNALS}/{signal['id']}/history", headers=admin).json()["items"]
    assert history[-1]["action"] == "reject"
    assert history[-1]["note"] == "Not ours: Geen wijkteam-casus"


def test_when_everyone_declines_the_signal_becomes_unroutable(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner
) -> None:
    make.rule(wijkteam, categories=["loneliness"])
    signal = submit(client, make, reporter)

    rejected = client.post(
        f"{SIGNALS}/{signal['id']}/reject",
        json={"reason": "Niet van ons"},
        headers=make.auth(make.partner_user(wijkteam)),
    )

    admin = make.auth(make.user(UserRole.admin))
    assert rejected.status_code == 200
    assert client.get(f"{SIGNALS}/{signal['id']}", headers=admin).json()["status"] == "unroutable"


def test_a_missed_deadline_escalates_to_the_fallback_once(
    client: TestClient,
    make: Factory,
    reporter: User,
    gemeente: Partner,
    rules: None,
    clock: FrozenClock,
) -> None:
    signal = submit(client, make, reporter)
    engine = client.app.state.engine  # type: ignore[attr-defined]

    assert escalate_missed_deadlines(engine, clock=clock) == 0
    clock.advance(minutes=61)
    first = escalate_missed_deadlines(engine, clock=clock)
    clock.advance(days=2)
    second = escalate_missed_deadlines(engine, clock=clock)

    assert (first, second) == (1, 0)
    admin = make.auth(make.user(UserRole.admin))
    now = client.get(f"{SIGNALS}/{signal['id']}", headers=admin).json()
    assert now["partner_id"] == str(gemeente.id)
    assert "did not acknowledge" in now["routing_explanation"]
    history = client.get(f"{SIGNALS}/{signal['id']}/history", headers=admin).json()["items"]
    assert [e["action"] for e in history] == ["submit", "route", "escalate"]


def test_dry_run_explains_every_rule(
    client: TestClient, make: Factory, team: Team, wijkteam: Partner, rules: None
) -> None:
    admin = make.auth(make.user(UserRole.admin))
    body = {
        "category": "loneliness",
        "team_id": str(team.id),
        "buurt_code": "BU0363AA01",
        "at": "2026-03-07T12:00:00+01:00",
    }  # Saturday

    result = client.post("/api/v1/routing/preview", json=body, headers=admin).json()

    assert result["decision"]["partner_name"] == "Gemeente"
    checks = {c["rule_name"]: c for c in result["rules"]}
    assert checks["Vangnet"]["matched"] is True
    assert checks["Wijkteam in kantooruren"]["matched"] is False
    assert "outside 'Mo-Fr 08:30-17:00; PH off'" in checks["Wijkteam in kantooruren"]["reasons"][0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_window": "Mo-Fx 25:00"}, "body.time_window"),
        ({"categories": ["no_such_category"]}, "body.categories"),
        ({"partner_id": "00000000-0000-4000-8000-000000000000"}, "body.partner_id"),
    ],
)
def test_invalid_rules_are_refused_when_saved(
    client: TestClient, make: Factory, wijkteam: Partner, change: dict[str, Any], field: str
) -> None:
    admin = make.auth(make.user(UserRole.admin))
    body = {"name": "Regel", "partner_id": str(wijkteam.id), **change}

    response = client.post("/api/v1/routing/rules", json=body, headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert client.get("/api/v1/routing/rules", headers=admin).json()["items"] == []


def test_a_rule_change_takes_effect_at_once(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner, gemeente: Partner
) -> None:
    rule = make.rule(wijkteam, categories=["loneliness"])
    admin = make.auth(make.user(UserRole.admin))
    assert submit(client, make, reporter)["partner_id"] == str(wijkteam.id)

    url = f"/api/v1/routing/rules/{rule.id}"
    changed = client.patch(
        url, json={"partner_id": str(gemeente.id)}, headers=if_match(client, url, admin)
    )
    assert changed.status_code == 200

    assert submit(client, make, reporter)["partner_id"] == str(gemeente.id)


def test_system_clients_sign_in_with_client_credentials(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner, rules: None
) -> None:
    signal = submit(client, make, reporter)
    admin = make.auth(make.user(UserRole.admin))
    issued = client.post(
        f"/api/v1/partners/{wijkteam.id}/clients", json={"name": "Zaaksysteem"}, headers=admin
    ).json()
    listed = client.get(f"/api/v1/partners/{wijkteam.id}/clients", headers=admin)

    token = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued["id"],
            "client_secret": issued["client_secret"],
        },
    )
    system = {"Authorization": f"Bearer {token.json()['access_token']}"}
    seen = client.get(SIGNALS, headers=system).json()["items"]
    client.post(f"/api/v1/partners/{wijkteam.id}/clients/{issued['id']}/revoke", headers=admin)

    assert issued["client_secret"].startswith("bpcs_")
    assert "client_secret" not in listed.text
    assert token.status_code == 200
    assert [s["id"] for s in seen] == [signal["id"]]
    assert client.get(SIGNALS, headers=system).status_code == 401
    wrong = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued["id"],
            "client_secret": "nope",
        },
    )
    assert wrong.status_code == 400


def test_partner_accounts_need_an_organisation(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    body = {
        "email": "p@example.nl",
        "full_name": "P",
        "password": "een lang wachtwoord",
        "role": "partner",
    }
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 422
    unknown = client.post(
        "/api/v1/users",
        json={**body, "partner_id": "00000000-0000-4000-8000-000000000000"},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.partner_id"


def test_a_partner_sees_only_its_own_organisation(
    client: TestClient, make: Factory, wijkteam: Partner, gemeente: Partner
) -> None:
    partner = make.auth(make.partner_user(wijkteam))
    names = [p["name"] for p in client.get("/api/v1/partners", headers=partner).json()["items"]]
    assert names == ["Sociaal wijkteam Oost"]
    assert client.get(f"/api/v1/partners/{gemeente.id}", headers=partner).status_code == 404


def test_gaps_name_what_no_rule_covers(
    client: TestClient, make: Factory, team: Team, wijkteam: Partner
) -> None:
    make.rule(
        wijkteam,
        name="Wijkteam kantooruren",
        categories=["loneliness"],
        time_window="Mo-Fr 08:00-18:00",
    )
    make.rule(
        wijkteam, name="Alles behalve eenzaamheid", category_groups=["safety", "heart_safety"]
    )
    make.rule(
        wijkteam,
        name="Sociaal",
        categories=[
            "social_isolation",
            "domestic_violence",
            "neglect",
            "worrying_behaviour",
            "other_concern",
        ],
    )
    admin = make.auth(make.user(UserRole.admin))

    report = client.get(
        "/api/v1/routing/gaps", params={"municipality": "GM0363"}, headers=admin
    ).json()

    assert [(g["category"], g["buurt_code"]) for g in report["items"]] == [
        ("loneliness", "BU0363AA01")
    ]
    gap = report["items"][0]
    assert gap["uncovered_now"] is False  # Monday 10:30
    assert "Sa 12:00" in gap["uncovered_hours"]
    assert "Mo 18:00" in gap["uncovered_hours"]
    assert "Mo 09:00" not in gap["uncovered_hours"]
    assert gap["urgencies"] == ["normal", "high", "acute"]


def test_the_demo_rules_cover_every_category_at_every_hour(tmp_path: Any) -> None:
    import httpx

    from tests.fixtures.server import demo_server

    with demo_server(f"sqlite:///{tmp_path / 'demo.db'}") as base:
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "admin@demo.local", "password": "demo"}
        ).json()["access_token"]
        report = httpx.get(
            f"{base}/api/v1/routing/gaps",
            params={"municipality": "GM0363"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ).json()
    assert report["items"] == []


def test_a_category_rule_beats_an_area_only_rule(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner, gemeente: Partner
) -> None:
    make.rule(gemeente, name="Alles in deze buurt", buurt_codes=["BU0363AA01"])
    make.rule(wijkteam, name="Eenzaamheid", categories=["loneliness"])

    assert submit(client, make, reporter)["partner_id"] == str(wijkteam.id)


def test_case_notes_stay_with_the_partner_that_wrote_them(
    client: TestClient,
    make: Factory,
    reporter: User,
    wijkteam: Partner,
    gemeente: Partner,
    rules: None,
) -> None:
    signal = submit(client, make, reporter)
    first = make.auth(make.partner_user(wijkteam))
    url = f"{SIGNALS}/{signal['id']}"
    client.post(f"{url}/acknowledge", json={"note": "Casus bekend: mevrouw K. (81)"}, headers=first)
    rejected = client.post(f"{url}/reject", json={"reason": "Dossier al bij de GGD"}, headers=first)

    def notes(headers: dict[str, str]) -> list[str | None]:
        return [e["note"] for e in client.get(f"{url}/history", headers=headers).json()["items"]]

    next_partner = make.auth(make.partner_user(gemeente))
    assert "Casus bekend: mevrouw K. (81)" not in notes(next_partner)
    assert "Not ours: Dossier al bij de GGD" not in notes(next_partner)
    assert "Casus bekend: mevrouw K. (81)" not in notes(make.auth(reporter))
    assert "Casus bekend: mevrouw K. (81)" in notes(make.auth(make.user(UserRole.admin)))
    assert rejected.json()["partner_id"] is None  # where it went is not the decliner's business
    assert rejected.json()["detail_level"] == "limited"


def test_system_clients_do_not_write_feedback_or_have_a_me(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner, rules: None
) -> None:
    signal = submit(client, make, reporter)
    admin = make.auth(make.user(UserRole.admin))
    issued = client.post(
        f"/api/v1/partners/{wijkteam.id}/clients", json={"name": "Systeem"}, headers=admin
    ).json()
    token = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued["id"],
            "client_secret": issued["client_secret"],
        },
    ).json()["access_token"]
    system = {"Authorization": f"Bearer {token}"}

    feedback = client.post(
        f"{SIGNALS}/{signal['id']}/feedback", json={"message": "Hoi"}, headers=system
    )

    assert feedback.status_code == 403
    assert client.get("/api/v1/me", headers=system).status_code == 403
    assert client.post(f"{SIGNALS}/{signal['id']}/acknowledge", headers=system).status_code == 200


def test_a_comment_only_time_window_is_not_open(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner
) -> None:
    make.rule(wijkteam, categories=["loneliness"], time_window='"op afspraak"')

    assert submit(client, make, reporter)["status"] == "unroutable"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_far_off_dates_are_a_422(
    client: TestClient, make: Factory, reporter: User, moment: str
) -> None:
    admin = make.auth(make.user(UserRole.admin))
    assert (
        client.post(
            SIGNALS, json=report(observed_at=moment), headers=make.auth(reporter)
        ).status_code
        == 422
    )
    assert client.get(SIGNALS, params={"created_from": moment}, headers=admin).status_code == 422


def test_a_deadline_is_dealt_with_once(
    client: TestClient, make: Factory, reporter: User, wijkteam: Partner, clock: FrozenClock
) -> None:
    make.rule(wijkteam, categories=["loneliness"], ack_minutes=60)  # no fallback
    signal = submit(client, make, reporter)
    engine = client.app.state.engine  # type: ignore[attr-defined]

    clock.advance(minutes=61)
    for _ in range(3):
        escalate_missed_deadlines(engine, clock=clock)
        clock.advance(minutes=5)

    admin = make.auth(make.user(UserRole.admin))
    events = client.get(
        "/api/v1/audit-events",
        params={"object_id": signal["id"], "action": "signal.escalation_without_fallback"},
        headers=admin,
    ).json()["items"]
    assert len(events) == 1


def test_a_buurt_outside_the_teams_municipality_is_refused(
    client: TestClient, make: Factory, reporter: User
) -> None:
    response = client.post(
        SIGNALS, json=report(buurt_code="BU05990101"), headers=make.auth(reporter)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.buurt_code"
