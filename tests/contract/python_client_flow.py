"""An integrator's whole flow, with nothing but the Python client that openapi-python-client
generated from the committed contract (no hand-written HTTP).

Run by tests/contract/test_generated_clients.py in a fresh interpreter:

    python python_client_flow.py GENERATED_DIR PACKAGE CONTRACT BASE_URL

with the generated package in GENERATED_DIR. Operations are looked up by method and path in the
contract, and each is the generated module the generator made for it, so the flow reads the
same whatever the contract names its operations and schemas. A failed assertion says what the
integrator would have seen.
"""

import importlib
import json
import sys
import typing
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from openapi_python_client.strings import PythonIdentifier

# The demo's admin: the server under test is `buurtplus serve` with the demo seeded.
ADMIN = {"username": "admin@demo.local", "password": "demo"}
PASSWORD = "een-lang-wachtwoord"
BUURT = "BU0363QQ01"


class GeneratedApi:
    """The generated client's operations, found by method and path."""

    def __init__(self, package: str, contract: dict[str, Any]) -> None:
        self.package = package
        self.contract = contract

    def operation(self, method: str, path: str) -> ModuleType:
        operation = self.contract["paths"][path][method]
        # The generator's own naming: one package per (first) tag, one module per operation id.
        tag = PythonIdentifier(operation["tags"][0], prefix="tag")
        name = PythonIdentifier(operation["operationId"], prefix="field_")
        return importlib.import_module(f"{self.package}.api.{tag}.{name}")

    @staticmethod
    def body(operation: ModuleType, data: dict[str, Any]) -> Any:
        """The operation's generated request-body model, filled from JSON-shaped data."""
        hint = typing.get_type_hints(operation.sync_detailed)["body"]
        candidates = typing.get_args(hint) or (hint,)
        model = next(c for c in candidates if hasattr(c, "from_dict"))
        return model.from_dict(data)

    def call(self, client: Any, method: str, path: str, **kwargs: Any) -> Any:
        operation = self.operation(method, path)
        if isinstance(kwargs.get("body"), dict):
            kwargs["body"] = self.body(operation, kwargs["body"])
        return operation.sync_detailed(client=client, **kwargs)


def expect(status: int, response: Any, what: str) -> Any:
    assert response.status_code == status, (
        f"{what}: expected {status}, got {int(response.status_code)}: {response.content!r}"
    )
    return response.parsed


def main(generated_dir: str, package: str, contract_path: str, base_url: str) -> None:
    sys.path.insert(0, generated_dir)
    contract = json.loads(Path(contract_path).read_text(encoding="utf-8"))
    api = GeneratedApi(package, contract)
    client_module = importlib.import_module(f"{package}.client")
    anonymous = client_module.Client(base_url=base_url, raise_on_unexpected_status=True)

    def sign_in(form: dict[str, Any], who: str) -> Any:
        token = expect(
            200, api.call(anonymous, "post", "/api/v1/auth/token", body=form), f"sign-in {who}"
        )
        assert str(token.token_type) == "bearer"
        return client_module.AuthenticatedClient(
            base_url=base_url, token=token.access_token, raise_on_unexpected_status=True
        )

    # The admin signs in with the password flow and sets up a team, a partner and its people.
    admin = sign_in({"grant_type": "password", **ADMIN}, "admin (password)")
    team = expect(
        201,
        api.call(
            admin,
            "post",
            "/api/v1/teams",
            body={
                "name": "Buurtpreventie Generated Client",
                "municipality_code": "GM0363",
                "buurt_codes": [BUURT],
            },
        ),
        "create a team",
    )
    partner = expect(
        201,
        api.call(
            admin,
            "post",
            "/api/v1/partners",
            body={"name": "Wijkagent Generated", "kind": "wijkagent", "municipalities": ["GM0363"]},
        ),
        "create a partner",
    )
    suffix = uuid.uuid4().hex[:8]
    member_email = f"vrijwilliger-{suffix}@example.nl"
    partner_email = f"wijkagent-{suffix}@example.nl"
    expect(
        201,
        api.call(
            admin,
            "post",
            "/api/v1/users",
            body={"email": member_email, "full_name": "Sanne de Vries", "password": PASSWORD},
        ),
        "create a volunteer account",
    )
    expect(
        201,
        api.call(
            admin,
            "post",
            "/api/v1/users",
            body={
                "email": partner_email,
                "full_name": "Wijkagent Jansen",
                "password": PASSWORD,
                "role": "partner",
                "partner_id": str(partner.id),
            },
        ),
        "create a partner account",
    )
    expect(
        201,
        api.call(
            admin,
            "post",
            "/api/v1/teams/{team_id}/members",
            team_id=team.id,
            body={"email": member_email},
        ),
        "add the volunteer to the team",
    )
    expect(
        201,
        api.call(
            admin,
            "post",
            "/api/v1/routing/rules",
            body={
                "name": "Inbraakrisico in deze buurt: wijkagent",
                "categories": ["burglary_risk"],
                "buurt_codes": [BUURT],
                "partner_id": str(partner.id),
                "ack_minutes": 60,
            },
        ),
        "create a routing rule",
    )
    issued = expect(
        201,
        api.call(
            admin,
            "post",
            "/api/v1/partners/{partner_id}/clients",
            partner_id=partner.id,
            body={"name": "Meldingensysteem"},
        ),
        "issue a system client",
    )

    # The partner's system signs in with the client-credentials flow.
    system = sign_in(
        {
            "grant_type": "client_credentials",
            "client_id": str(issued.id),
            "client_secret": issued.client_secret,
        },
        "system client (client credentials)",
    )

    # The volunteer reports; a retry with the same Idempotency-Key makes no second signal.
    member = sign_in(
        {"grant_type": "password", "username": member_email, "password": PASSWORD}, "volunteer"
    )
    report = {
        "category": "burglary_risk",
        "description": "Raam op de begane grond staat de hele nacht open.",
        "buurt_code": BUURT,
    }
    key = str(uuid.uuid4())
    first = api.call(member, "post", "/api/v1/signals", body=report, idempotency_key=key)
    signal = expect(201, first, "report a signal")
    retried = api.call(member, "post", "/api/v1/signals", body=report, idempotency_key=key)
    assert expect(201, retried, "retry the report").id == signal.id, "a retry made a second signal"
    assert retried.headers.get("idempotent-replayed") == "true"

    # Routed at once, to the partner the rule names; the reporter reads its history.
    assert str(signal.status) == "routed", signal.status
    assert signal.partner_id == partner.id
    assert signal.advice is not None
    history = expect(
        200,
        api.call(member, "get", "/api/v1/signals/{signal_id}/history", signal_id=signal.id),
        "read the history",
    )
    assert [str(event.to_status) for event in history.items] == ["submitted", "routed"]

    # The partner's person acknowledges with If-Match from the ETag, then starts without a body.
    handler = sign_in(
        {"grant_type": "password", "username": partner_email, "password": PASSWORD},
        "partner account",
    )
    read = api.call(handler, "get", "/api/v1/signals/{signal_id}", signal_id=signal.id)
    seen = expect(200, read, "the partner reads the signal")
    assert "acknowledge" in [str(step) for step in seen.allowed_transitions]
    etag = read.headers["etag"]
    acknowledged = api.call(
        handler,
        "post",
        "/api/v1/signals/{signal_id}/acknowledge",
        signal_id=signal.id,
        if_match=etag,
        body={"note": "Wij pakken dit op"},
    )
    assert str(expect(200, acknowledged, "acknowledge").status) == "acknowledged"
    stale = api.call(
        handler, "post", "/api/v1/signals/{signal_id}/start", signal_id=signal.id, if_match=etag
    )
    assert expect(412, stale, "start with a stale ETag").status == 412
    started = api.call(
        handler,
        "post",
        "/api/v1/signals/{signal_id}/start",
        signal_id=signal.id,
        if_match=acknowledged.headers["etag"],
    )
    assert str(expect(200, started, "start without a body").status) == "in_progress"

    # The system pulls the partner's events with the cursor and reads their typed payloads.
    events: list[Any] = []
    after: Any = importlib.import_module(f"{package}.types").UNSET  # the first read: no cursor
    for _ in range(20):
        page = expect(
            200,
            api.call(system, "get", "/api/v1/partner/events", after=after),
            "pull the partner's events",
        )
        events += page.items
        after = page.next_cursor
        if not page.has_more:
            break
    assert [str(event.type_) for event in events] == [
        "signal.routed",
        "signal.updated",
        "signal.updated",
    ]
    routed, acknowledged_event, started_event = (event.data for event in events)
    assert str(routed.signal_id) == str(signal.id)
    assert routed.category == "burglary_risk"
    assert routed.assigned_to_you is True
    assert routed.description == report["description"]
    assert routed.links.signal == f"/api/v1/signals/{signal.id}"
    assert str(acknowledged_event.status) == "acknowledged"
    assert str(started_event.status) == "in_progress"
    assert started_event.version > acknowledged_event.version
    nothing_new = expect(
        200,
        api.call(system, "get", "/api/v1/partner/events", after=after),
        "pull again with the last cursor",
    )
    assert nothing_new.items == []
    assert nothing_new.has_more is False
    print(json.dumps({"signal": str(signal.id), "events": [str(e.type_) for e in events]}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
