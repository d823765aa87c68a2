"""Every answer that carries sensitive content leaves an audit record of who read it, and no
cache keeps it. Walks every GET operation of the served contract as every kind of reader, so a
new endpoint that shows sensitive content without recording the read fails here."""

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from buurtplus.domain.access import UserRole
from buurtplus.domain.audit.models import AuditEvent
from buurtplus.domain.users.models import User
from tests.api.test_patrol_observations import NOW_END, NOW_START, seen
from tests.fixtures.factories import Factory

# Sensitive content written into the world below; seeing any of it in an answer is a read.
MARKERS = {
    "description": "Kinderen alleen thuis, vader drinkt (MARKER-D7)",
    "case note": "Casus bekend bij ons (MARKER-N7)",
    "feedback": "Gezin is in beeld bij hulpverlening (MARKER-F7)",
    "observation": "Moeder huilde aan de deur (MARKER-O7)",
}
QUERY = {"/api/v1/routing/gaps": {"municipality": "GM0363"}}


def audit_count(app: FastAPI, actor: User) -> int:
    with Session(app.state.engine) as session:
        return session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == actor.id)
        ).one()


@pytest.fixture
def world(client: TestClient, make: Factory) -> dict[str, Any]:
    team = make.team(plus_mode=True, buurt_codes=["BU0363AA01"])
    coordinator, reporter = make.coordinator(team), make.member(team)
    partner = make.partner("Veilig Thuis", kind="veilig_thuis")
    make.rule(partner, categories=["neglect", "loneliness"])
    handler = make.partner_user(partner)
    admin = make.user(UserRole.admin)
    endpoint = client.post(
        f"/api/v1/partners/{partner.id}/endpoints",
        json={"url": "https://partner.example.nl/hooks"},
        headers=make.auth(handler),
    ).json()
    signal = client.post(
        "/api/v1/signals",
        json={
            "category": "neglect",
            "description": MARKERS["description"],
            "buurt_code": "BU0363AA01",
        },
        headers=make.auth(reporter),
    ).json()
    url = f"/api/v1/signals/{signal['id']}"
    partner_headers = make.auth(handler)
    client.post(f"{url}/acknowledge", json={"note": MARKERS["case note"]}, headers=partner_headers)
    client.post(f"{url}/feedback", json={"message": MARKERS["feedback"]}, headers=partner_headers)
    patrol = make.patrol(
        team, coordinator, planned_start=NOW_START, planned_end=NOW_END, participants=(reporter,)
    )
    client.post(f"/api/v1/patrols/{patrol.id}/start", headers=make.auth(reporter))
    observation = client.post(
        f"/api/v1/patrols/{patrol.id}/observations",
        json=seen(kind="contact_with_resident", note=MARKERS["observation"], observed_at=None),
        headers=make.auth(reporter),
    ).json()
    promoted = client.post(
        f"/api/v1/patrols/{patrol.id}/observations/{observation['id']}/signal",
        json={"category": "loneliness"},
        headers=make.auth(reporter),
    )
    assert promoted.status_code == 201, promoted.text
    delivery = client.get(
        f"/api/v1/partners/{partner.id}/deliveries", headers=partner_headers
    ).json()["items"][0]
    rule = client.get("/api/v1/routing/rules", headers=make.auth(admin)).json()["items"][0]
    return {
        "ids": {
            "signal_id": signal["id"],
            "team_id": str(team.id),
            "user_id": str(reporter.id),
            "partner_id": str(partner.id),
            "endpoint_id": endpoint["id"],
            "delivery_id": delivery["id"],
            "rule_id": rule["id"],
            "patrol_id": str(patrol.id),
            "code": "neglect",
        },
        "readers": {
            "admin": admin,
            "reporter": reporter,
            "coordinator": coordinator,
            "partner": handler,
        },
    }


def get_operations(app: FastAPI) -> list[str]:
    return [path for path, item in app.openapi()["paths"].items() if "get" in item]


def test_every_answer_with_sensitive_content_is_audited_and_not_cached(
    app: FastAPI, client: TestClient, make: Factory, world: dict[str, Any]
) -> None:
    seen_sensitive: set[tuple[str, str]] = set()
    for template in get_operations(app):
        names = re.findall(r"{(\w+)}", template)
        unknown = [name for name in names if name not in world["ids"]]
        assert not unknown, f"give the walk an id for {unknown} in {template}"
        path = template.format(**{name: world["ids"][name] for name in names})
        for role, reader in world["readers"].items():
            before = audit_count(app, reader)
            response = client.get(path, params=QUERY.get(template), headers=make.auth(reader))
            assert response.status_code != 422, f"{template}: {response.text}"
            shown = [name for name, marker in MARKERS.items() if marker in response.text]
            if not shown:
                continue
            seen_sensitive.add((template, role))
            assert audit_count(app, reader) > before, (
                f"{role} read {shown} at {template} without an audit record"
            )
            assert response.headers.get("cache-control") == "no-store", template

    # The walk did reach sensitive content, in each of the places it lives.
    assert {
        ("/api/v1/signals/{signal_id}", "admin"),
        ("/api/v1/signals/{signal_id}", "partner"),
        ("/api/v1/signals/{signal_id}", "reporter"),
        ("/api/v1/signals", "partner"),
        ("/api/v1/signals/{signal_id}/history", "partner"),
        ("/api/v1/signals/{signal_id}/feedback", "admin"),
        ("/api/v1/signals/{signal_id}/feedback", "partner"),
        ("/api/v1/signals/{signal_id}/feedback", "reporter"),
        ("/api/v1/patrols/{patrol_id}/observations", "admin"),
        ("/api/v1/me/export", "reporter"),
    } <= seen_sensitive


def test_feedback_of_a_sensitive_signal_is_audited_for_whoever_reads_it(
    client: TestClient, make: Factory, world: dict[str, Any]
) -> None:
    admin = world["readers"]["admin"]
    signal_id = world["ids"]["signal_id"]
    client.get(f"/api/v1/signals/{signal_id}/feedback", headers=make.auth(admin))

    records = client.get(
        "/api/v1/audit-events",
        params={"object_id": signal_id, "action": "feedback.read"},
        headers=make.auth(admin),
    ).json()["items"]

    assert [r["actor_id"] for r in records][-1] == str(admin.id)
    assert records[-1]["details"] == {"category": "neglect"}


def test_a_read_of_an_unknown_signal_leaves_no_record(
    app: FastAPI, client: TestClient, make: Factory, world: dict[str, Any]
) -> None:
    admin = world["readers"]["admin"]
    before = audit_count(app, admin)
    response = client.get(f"/api/v1/signals/{uuid.uuid4()}/feedback", headers=make.auth(admin))
    assert response.status_code == 404
    assert audit_count(app, admin) == before
