"""The breaking-change check: each kind of break is caught, compatible changes pass, and the
version must say which it is."""

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from buurtplus.api.contract_check import breaking_changes, version_problems

Doc = dict[str, Any]


def base() -> Doc:
    """A small contract in the shape ours has: a create, a read with an open enum, a list."""
    status_open = {"anyOf": [{"$ref": "#/components/schemas/Status"}, {"type": "string"}]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "2.0.0"},
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "parameters": [
                        {"name": "dry_run", "in": "query", "required": False, "schema": {}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ThingCreate"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ThingRead"}
                                }
                            },
                        }
                    },
                },
            },
            "/things/{id}": {
                "get": {
                    "operationId": "getThing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ThingRead"}
                                }
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Status": {"type": "string", "enum": ["new", "done"]},
                "ThingCreate": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "count": {"type": "integer"},
                        "status": {"$ref": "#/components/schemas/Status"},
                        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                    "required": ["name"],
                },
                "ThingRead": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "count": {"type": "integer"},
                        "status": status_open,
                        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                    "required": ["id", "name", "count", "status", "note"],
                },
            }
        },
    }


def changed(edit: Callable[[Doc], object]) -> Doc:
    document = copy.deepcopy(base())
    edit(document)
    return document


def schemas(document: Doc) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"]
    return result


BREAKING: dict[str, tuple[Callable[[Doc], object], str]] = {
    "removed path": (lambda d: d["paths"].pop("/things/{id}"), "path removed"),
    "removed operation": (lambda d: d["paths"]["/things"].pop("post"), "operation removed"),
    "renamed operation": (
        lambda d: d["paths"]["/things/{id}"]["get"].update(operationId="readThing"),
        "operationId getThing became readThing",
    ),
    "removed response field": (
        lambda d: schemas(d)["ThingRead"]["properties"].pop("count"),
        "response field removed",
    ),
    "removed request field": (
        lambda d: schemas(d)["ThingCreate"]["properties"].pop("count"),
        "request field removed",
    ),
    "changed type": (
        lambda d: schemas(d)["ThingRead"]["properties"].update(count={"type": "string"}),
        "type ['integer'] became ['string']",
    ),
    "changed request type": (
        lambda d: schemas(d)["ThingCreate"]["properties"].update(count={"type": "string"}),
        "type ['integer'] became ['string']",
    ),
    "new required request field": (
        lambda d: schemas(d)["ThingCreate"]["required"].append("count"),
        "new required request field",
    ),
    "narrowed enum": (
        lambda d: schemas(d)["Status"].update(enum=["new"]),
        "enum narrowed: ['\"done\"'] no longer accepted",
    ),
    "new required parameter": (
        lambda d: d["paths"]["/things"]["post"]["parameters"].append(
            {"name": "team", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        "new required parameter",
    ),
    "null no longer accepted": (
        lambda d: schemas(d)["ThingCreate"]["properties"].update(note={"type": "string"}),
        "null no longer accepted",
    ),
    "response may now be null": (
        lambda d: schemas(d)["ThingRead"]["properties"].update(
            count={"anyOf": [{"type": "integer"}, {"type": "null"}]}
        ),
        "may now be null",
    ),
    "response field may be missing": (
        lambda d: schemas(d)["ThingRead"]["required"].remove("count"),
        "response field may now be missing",
    ),
    "open enum closed": (
        lambda d: schemas(d)["ThingRead"]["properties"].update(
            status={"$ref": "#/components/schemas/Status"}
        ),
        "an open enum was closed",
    ),
}


@pytest.mark.parametrize("kind", sorted(BREAKING))
def test_each_kind_of_breaking_change_is_caught(kind: str) -> None:
    edit, what = BREAKING[kind]

    breaks = breaking_changes(base(), changed(edit))

    assert what in [b.what for b in breaks], breaks


COMPATIBLE: dict[str, Callable[[Doc], object]] = {
    "new path": lambda d: d["paths"].update({"/other": d["paths"]["/things/{id}"]}),
    "new optional request field": lambda d: schemas(d)["ThingCreate"]["properties"].update(
        colour={"type": "string"}
    ),
    "new response field": lambda d: schemas(d)["ThingRead"]["properties"].update(
        colour={"type": "string"}
    ),
    "new enum value": lambda d: schemas(d)["Status"]["enum"].append("archived"),
    "request field may be null": lambda d: schemas(d)["ThingCreate"]["properties"].update(
        count={"anyOf": [{"type": "integer"}, {"type": "null"}]}
    ),
    "required request field made optional": lambda d: schemas(d)["ThingCreate"].update(required=[]),
    "new optional parameter": lambda d: d["paths"]["/things"]["post"]["parameters"].append(
        {"name": "verbose", "in": "query", "required": False, "schema": {"type": "boolean"}}
    ),
    "documentation": lambda d: schemas(d)["ThingRead"].update(description="A thing."),
}


@pytest.mark.parametrize("kind", sorted(COMPATIBLE))
def test_compatible_changes_pass(kind: str) -> None:
    assert breaking_changes(base(), changed(COMPATIBLE[kind])) == []


def with_version(document: Doc, version: str) -> Doc:
    document["info"]["version"] = version
    return document


def test_a_breaking_change_needs_a_new_major_version() -> None:
    broken = changed(BREAKING["removed response field"][0])

    refused = version_problems(base(), with_version(copy.deepcopy(broken), "2.1.0"))
    allowed = version_problems(base(), with_version(copy.deepcopy(broken), "3.0.0"))

    assert len(refused) == 1
    assert ".count: response field removed" in refused[0]
    assert allowed == []


def test_any_change_raises_the_version_and_no_change_needs_none() -> None:
    compatible = changed(COMPATIBLE["new response field"])

    assert version_problems(base(), compatible) != []
    assert version_problems(base(), with_version(compatible, "2.1.0")) == []
    assert version_problems(base(), base()) == []


def test_the_served_contract_has_no_break_against_itself(repo_root: Path) -> None:
    committed = json.loads((repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert breaking_changes(committed, committed) == []


def test_export_refuses_to_overwrite_the_contract_with_an_unversioned_break(
    tmp_path: Path, repo_root: Path
) -> None:
    committed = json.loads((repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    # A contract that had one more operation than this code serves: exporting would remove it.
    published = copy.deepcopy(committed)
    published["paths"]["/api/v1/retired"] = {"get": {"operationId": "retired", "responses": {}}}
    target = tmp_path / "openapi.json"
    target.write_text(json.dumps(published), encoding="utf-8")

    refused = subprocess.run(
        [sys.executable, "-m", "buurtplus", "openapi", "export", "--output", str(target)],
        capture_output=True,
        text=True,
        check=False,
        env={"BUURTPLUS_JWT_SECRET": "x" * 40, "PATH": ""},
    )

    assert refused.returncode == 1
    assert "/api/v1/retired: path removed" in refused.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == published
