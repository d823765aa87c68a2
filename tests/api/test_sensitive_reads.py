"""Every answer that carries sensitive content leaves an audit record of who read it, and no
cache keeps it. Walks every GET operation of the served contract as every kind of reader, so a
new endpoint that shows sensitive content without recording the read fails here."""

import importlib
import pkgutil
import re
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from buurtplus.api import routes
from buurtplus.core.audit.models import AuditEvent
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory
from tests.fixtures.world import MARKERS

QUERY = {
    "/api/v1/routing/gaps": {"municipality": "GM0363"},
    "/api/v1/aeds/nearby": {"lat": "52.3601", "lon": "4.9215"},
}


def audit_count(app: FastAPI, actor: User) -> int:
    with Session(app.state.engine) as session:
        return session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == actor.id)
        ).one()


def get_operations(app: FastAPI) -> list[str]:
    return [path for path, item in app.openapi()["paths"].items() if "get" in item]


def endpoint_of(app: FastAPI, template: str) -> Any:
    """The route function behind a GET operation (its id is the function's name in camelCase)."""
    wanted = app.openapi()["paths"][template]["get"]["operationId"]
    for module in pkgutil.iter_modules(routes.__path__):
        loaded = importlib.import_module(f"{routes.__name__}.{module.name}")
        for name, function in vars(loaded).items():
            head, *rest = name.split("_")
            if callable(function) and head + "".join(p.capitalize() for p in rest) == wanted:
                return function
    raise AssertionError(f"no route function {wanted} for {template}")


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
            if audit_count(app, reader) > before:
                # A GET that records takes a write transaction (on SQLite it queues as a
                # writer instead of failing to turn a read into a write under load).
                assert getattr(endpoint_of(app, template), "buurtplus_writes", False), (
                    f"{template} writes audit records but is not marked @audited_read"
                )
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
