import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from buurtplus.api.contract import reachable, request_roots, response_roots
from buurtplus.api.contract_check import semver, version_problems
from buurtplus.cli import openapi_document

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_committed_contract_matches_the_served_one(app: FastAPI, repo_root: Path) -> None:
    committed = json.loads((repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8"))

    served = app.openapi()

    # First the version rule, so a breaking change is named before the plain drift.
    assert version_problems(committed, served) == []
    assert served == committed, "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_export_writes_exactly_the_committed_file(repo_root: Path) -> None:
    committed = (repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert openapi_document() == committed


def test_the_contract_differs_from_main_only_with_a_raised_version(repo_root: Path) -> None:
    """Against the contract on the main branch, when this is a git checkout that has it: a
    branch that changes the contract raises the version, a breaking change the major one."""
    for ref in ("main", "origin/main"):
        shown = subprocess.run(
            ["git", "show", f"{ref}:openapi/openapi.json"],
            cwd=repo_root,
            capture_output=True,
            text=True,
            check=False,
        )
        if shown.returncode == 0:
            break
    else:
        pytest.skip("no main branch to compare with")
    released = json.loads(shown.stdout)
    current = json.loads((repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    if semver(released["info"]["version"]) < (1, 0, 0):
        pytest.skip("main has no versioned contract yet")
    assert version_problems(released, current) == []


def test_the_contract_is_semantically_versioned_and_describes_itself(app: FastAPI) -> None:
    document = app.openapi()
    info = document["info"]

    assert semver(info["version"]) >= (2, 0, 0)
    assert info["license"] == {"name": "MIT", "identifier": "MIT"}
    assert "Evolution" in info["description"]
    assert document["servers"]
    tags = {tag["name"]: tag for tag in document["tags"]}
    for _, _, operation in operations(document):
        assert tags[operation["tags"][0]].get("description")


def test_every_operation_is_described_and_declares_its_errors(app: FastAPI) -> None:
    document = app.openapi()
    ids = []
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert len(operation["tags"]) == 1, where
        ids.append(operation["operationId"])
        # One style, camelCase, so generators make clean names (reportSignal, report_signal).
        assert re.fullmatch(r"[a-z][a-zA-Z0-9]+", operation["operationId"]), where
        assert operation.get("summary"), where
        assert len(operation.get("description", "")) > 20, where
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert len(success) == 1, where
        if path.startswith("/api/v1/") and path != "/api/v1/auth/token":
            assert "401" in operation["responses"], where
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in operation["responses"], where
        assert "default" in operation["responses"], where
        for code, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], where
            if code.startswith(("4", "5")) or code == "default":
                assert response["content"]["application/problem+json"]["schema"] == PROBLEM
        types = operation["x-problem-types"]
        assert types == sorted(types) and types, where
        assert all(t.startswith("urn:buurtplus:problem:") for t in types), where
    assert len(ids) == len(set(ids))
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_request_bodies_carry_examples_and_optional_ones_are_plain_refs(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    optional = []
    for path, method, operation in operations(document):
        body = operation.get("requestBody")
        if not body or "application/json" not in body["content"]:
            continue
        media = body["content"]["application/json"]
        # Generated Python clients send `Unset` for a left-out `anyOf [X, null]` body.
        assert set(media["schema"]) == {"$ref"}, f"{method.upper()} {path}"
        ref = media["schema"]["$ref"].rsplit("/", 1)[1]
        assert schemas[ref].get("examples"), f"{method.upper()} {path} ({ref}) has no example"
        assert "example" in media or "examples" in media, f"{method.upper()} {path}"
        if not body.get("required"):
            optional.append(operation["operationId"])
    assert len(optional) == 9, optional


def test_response_headers_are_declared_where_they_are_sent(app: FastAPI) -> None:
    document = app.openapi()
    report = document["paths"]["/api/v1/signals"]["post"]["responses"]["201"]["headers"]
    assert {"ETag", "Location", "Idempotent-Replayed"} <= set(report)
    step = document["paths"]["/api/v1/signals/{signal_id}/acknowledge"]["post"]["responses"]
    assert "ETag" in step["200"]["headers"]
    token = document["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]
    assert "Retry-After" in token["headers"]
    etag = document["components"]["headers"]["ETag"]
    assert re.fullmatch(etag["schema"]["pattern"], '"3"')


def test_if_match_is_required_on_every_patch_of_a_versioned_record(app: FastAPI) -> None:
    document = app.openapi()
    for path, method, operation in operations(document):
        if_match = [p for p in operation.get("parameters", []) if p["name"] == "If-Match"]
        if method == "patch" and if_match:
            assert if_match[0]["required"] is True, path
            assert "428" in operation["responses"], path
    patched = [p for p, m, o in operations(document) if m == "patch" and "428" in o["responses"]]
    assert sorted(patched) == [
        "/api/v1/aeds/{aed_id}",
        "/api/v1/categories/{code}",
        "/api/v1/partners/{partner_id}",
        "/api/v1/partners/{partner_id}/endpoints/{endpoint_id}",
        "/api/v1/patrols/{patrol_id}",
        "/api/v1/routing/rules/{rule_id}",
        "/api/v1/teams/{team_id}",
        "/api/v1/teams/{team_id}/members/{user_id}",
        "/api/v1/users/{user_id}",
    ]
    # Every PATCH in the contract is of a versioned record.
    assert sorted(patched) == sorted(p for p, m, _ in operations(document) if m == "patch")


def _enums(node: Any, *, opened: bool = False) -> list[tuple[bool, Any]]:
    """Every enum in a schema, and whether it sits in an open `anyOf [enum, string]`."""
    found: list[tuple[bool, Any]] = []
    if isinstance(node, dict):
        if "enum" in node:
            found.append((opened, node["enum"]))
        variants = node.get("anyOf", [])
        open_here = {"type", "description"} >= set(variants[-1]) if variants else False
        for key, value in node.items():
            found.extend(_enums(value, opened=open_here and key == "anyOf"))
    elif isinstance(node, list):
        for item in node:
            found.extend(_enums(item, opened=opened))
    return found


def test_enums_are_closed_in_requests_and_open_in_responses(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    read = reachable(document, response_roots(document))
    sent = reachable(document, request_roots(document))
    for name in read - sent:
        schema = schemas[name]
        if "enum" in schema:
            continue  # an enum component: each use of it in a response opens it
        closed = [values for opened, values in _enums(schema) if not opened]
        assert closed == [], f"{name} has a closed enum in a response: {closed}"
    signal = schemas["SignalRead"]["properties"]
    assert signal["status"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/SignalStatus"},
            {"type": "string", "description": "A value added after this version"},
        ]
    }
    assert "enum" in schemas["SignalStatus"]
    # Published as enums (open), not as plain strings.
    assert "DeliveryStatus" in json.dumps(schemas["DeliveryRead"]["properties"]["status"])
    assert "EventType" in json.dumps(schemas["EndpointRead"]["properties"]["event_types"])
    assert "HistoryAction" in json.dumps(schemas["SignalEventRead"]["properties"]["action"])


def test_input_schemas_leave_defaults_to_the_server(app: FastAPI) -> None:
    """openapi-typescript makes a property with a `default` required: input schemas state
    their defaults in words."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    for name in reachable(document, request_roots(document)):
        for field, schema in schemas[name].get("properties", {}).items():
            assert "default" not in schema, f"{name}.{field}"
    urgency = schemas["SignalCreate"]["properties"]["urgency"]
    assert "urgency" not in schemas["SignalCreate"]["required"]
    assert "Default: `normal`." in urgency["description"]


def test_read_models_are_typed_and_extensions_extend(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    route = schemas["PatrolRead"]["properties"]["route"]
    assert {"$ref": "#/components/schemas/RouteRead"} in route["anyOf"]
    area = schemas["TeamRead"]["properties"]["area"]
    assert {"$ref": "#/components/schemas/AreaRead"} in area["anyOf"]
    submitted = schemas["SignalSubmitted"]
    assert submitted["allOf"][0] == {"$ref": "#/components/schemas/SignalRead"}
    assert set(submitted["allOf"][1]["properties"]) == {"advice"}
    assert "error" in schemas["Problem"]["properties"]


def test_a_signal_must_say_where_in_the_schema_too(app: FastAPI) -> None:
    rule = app.openapi()["components"]["schemas"]["SignalCreate"]["not"]
    assert set(rule["properties"]) == {"location", "address", "postcode", "buurt_code"}


def test_webhooks_publish_every_event_with_headers_and_an_example(app: FastAPI) -> None:
    document = app.openapi()
    webhooks = document["webhooks"]
    assert set(webhooks) == {
        "signal.routed",
        "signal.escalated",
        "signal.rerouted",
        "signal.withdrawn",
        "signal.updated",
        "ping",
    }
    for name, item in webhooks.items():
        operation = item["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}, name
        media = operation["requestBody"]["content"]["application/json"]
        (example,) = media["examples"].values()
        assert example["value"]["type"] == name
        assert operation["description"]
    feed_item = document["components"]["schemas"]["EventFeedRead"]["properties"]["items"]
    assert feed_item["items"]["discriminator"]["propertyName"] == "type"
    assert len(feed_item["items"]["oneOf"]) == len(webhooks)
