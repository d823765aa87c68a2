"""The maintenance list; the cabinet code never leaves the system; retention of personal
fields of the registry."""

import logging
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from buurtplus.background import purge_personal_content
from buurtplus.core.audit.models import AuditEvent
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.aeds.models import Aed, AedCheck
from buurtplus.outbox.models import WebhookEvent
from tests.aeds.conftest import AEDS, IN_DAPPERBUURT, IN_OOSTERPARK, World
from tests.fixtures.factories import Factory

MAINTENANCE = f"{AEDS}/maintenance"
OK = {"display_ok": True, "cabinet_ok": True, "kit_present": True}


def reasons_by_id(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.text
    return {i["aed"]["id"]: i["reasons"] for i in response.json()["items"]}


def test_the_maintenance_list(
    client: TestClient, make: Factory, world: World, clock: FrozenClock
) -> None:
    # Everything registered today and checked today is fine...
    for aed in (world.public_aed, world.responders_aed):
        client.post(f"{AEDS}/{aed.id}/checks", headers=make.auth(world.member_a), json=OK)
    soon = make.aed(latitude=52.3590, longitude=4.9170, pads_expiry=date(2026, 3, 20))
    later = make.aed(latitude=52.3592, longitude=4.9172, battery_expiry=date(2026, 6, 1))
    elsewhere = make.aed(**IN_DAPPERBUURT, pads_expiry=date(2026, 3, 3))
    for aed, who in ((soon, world.member_a), (later, world.member_a), (elsewhere, world.member_b)):
        checked = client.post(f"{AEDS}/{aed.id}/checks", headers=make.auth(who), json=OK)
        assert checked.status_code == 201
    headers = make.auth(world.coordinator_a)
    listed = reasons_by_id(client.get(MAINTENANCE, headers=headers))
    assert listed == {str(soon.id): ["pads_expiring"]}
    wider = reasons_by_id(client.get(MAINTENANCE, headers=headers, params={"within_days": 120}))
    assert wider == {str(soon.id): ["pads_expiring"], str(later.id): ["battery_expiring"]}
    # ...until nobody checks for longer than the interval (30 days by default).
    clock.advance(days=31)
    headers = make.auth(world.coordinator_a)
    late = reasons_by_id(client.get(MAINTENANCE, headers=headers))
    assert late[str(soon.id)] == ["pads_expired", "check_due"]
    assert late[str(world.public_aed.id)] == ["check_due"]
    assert str(elsewhere.id) not in late
    team_b = reasons_by_id(
        client.get(
            MAINTENANCE, headers=make.auth(world.admin), params={"team_id": str(world.team_b.id)}
        )
    )
    assert set(team_b) == {str(elsewhere.id)}
    assert (
        client.get(
            MAINTENANCE, headers=headers, params={"team_id": str(world.team_b.id)}
        ).status_code
        == 404
    )
    assert client.get(MAINTENANCE, headers=make.auth(world.loner)).status_code == 403
    partner = reasons_by_id(client.get(MAINTENANCE, headers=make.auth(world.maintainer_user)))
    assert set(partner) == {str(world.responders_aed.id)}


def test_a_never_checked_aed_is_due_after_the_interval(
    client: TestClient, make: Factory, world: World, clock: FrozenClock
) -> None:
    clock.advance(days=31)
    listed = reasons_by_id(client.get(MAINTENANCE, headers=make.auth(world.member_a)))
    assert listed[str(world.public_aed.id)] == ["never_checked"]


CODE = "CODE-7391-XQ"


def test_the_cabinet_code_never_leaves_the_system(
    client: TestClient,
    make: Factory,
    world: World,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    partner = make.partner("Gemeente")
    make.rule(partner, categories=["aed_defective", "aed_missing"])
    admin = make.auth(world.admin)
    seen: list[str] = []

    def call(method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        response = client.request(method, url, headers=headers, **kwargs)
        assert response.status_code < 400, response.text
        seen.append(response.text)
        seen.append(str(response.headers))
        return response

    created = call(
        "POST",
        AEDS,
        make.auth(world.coordinator_a),
        json={**IN_OOSTERPARK, "cabinet_locked": True, "cabinet_code": CODE},
    ).json()
    assert created["cabinet_code_set"] is True
    url = f"{AEDS}/{created['id']}"
    for who in (world.admin, world.coordinator_a, world.member_a, world.maintainer_user):
        call("GET", url, make.auth(who))
        call("GET", AEDS, make.auth(who))
        call("GET", f"{AEDS}/nearby", make.auth(who), params={"lat": 52.36, "lon": 4.92})
    call("PATCH", url, {**admin, "If-Match": "*"}, json={"cabinet_code": CODE, "level": "0"})
    for fmt in ("geojson", "csv", "osm"):
        call("GET", f"{AEDS}/export", admin, params={"format": fmt})
    call("GET", MAINTENANCE, admin, params={"within_days": 366})
    checked = call(
        "POST", f"{url}/checks", make.auth(world.member_a), json={**OK, "display_ok": False}
    ).json()
    call("GET", f"{url}/checks", admin)
    call("GET", f"/api/v1/signals/{checked['check']['signal_id']}", admin)
    call("GET", "/api/v1/audit-events", admin, params={"limit": 200})
    call("GET", "/api/v1/partner/events", make.auth(make.partner_user(partner)))
    app: Any = client.app
    with Session(app.state.engine) as session:
        stored = session.exec(select(Aed.cabinet_code).where(Aed.cabinet_code.is_not(None))).all()  # type: ignore[union-attr]
        assert stored == [CODE]  # it is kept, for whoever may one day need to hand it out
        seen += [e.body for e in session.exec(select(WebhookEvent))]
        seen += [str(e.details) for e in session.exec(select(AuditEvent))]
    seen += [r.getMessage() + str(r.__dict__) for r in caplog.records]
    captured = capsys.readouterr()
    seen += [captured.out, captured.err]
    assert len(seen) > 40
    assert [text for text in seen if CODE in text] == []


def test_retention_removes_check_notes_and_contacts_of_retired_aeds(
    client: TestClient, make: Factory, world: World, clock: FrozenClock, settings: Any
) -> None:
    url = f"{AEDS}/{world.public_aed.id}"
    client.post(f"{url}/checks", headers=make.auth(world.member_a), json={**OK, "note": "Bij Jan."})
    client.delete(f"{AEDS}/{world.responders_aed.id}", headers=make.auth(world.admin))
    app: Any = client.app
    clock.advance(days=settings.retention_days - 1)
    purge_personal_content(app.state.engine, retention_days=settings.retention_days, clock=clock)
    with Session(app.state.engine) as session:
        assert session.exec(select(AedCheck.note)).all() == ["Bij Jan."]
    clock.advance(days=2)
    purge_personal_content(app.state.engine, retention_days=settings.retention_days, clock=clock)
    with Session(app.state.engine) as session:
        assert session.exec(select(AedCheck.note)).all() == [None]
        retired = session.get(Aed, world.responders_aed.id)
        kept = session.get(Aed, world.public_aed.id)
        assert retired is not None and retired.contact_name is None
        # An AED in service keeps its contact person.
        assert kept is not None and kept.contact_name == "Jan Jansen"
    assert timedelta(days=settings.retention_days) > timedelta(0)
