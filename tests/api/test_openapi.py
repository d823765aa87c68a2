import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from buurtplus.cli import openapi_document

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


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

    assert served == committed, "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_export_writes_exactly_the_committed_file(repo_root: Path) -> None:
    committed = (repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert openapi_document() == committed


def test_every_operation_is_tagged_summarised_and_declares_its_errors(app: FastAPI) -> None:
    document = app.openapi()
    ids = []
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert len(operation["tags"]) == 1, where
        tag = operation["tags"][0]
        ids.append(operation["operationId"])
        assert operation["operationId"].startswith(f"{tag}-"), where
        assert operation.get("summary"), where
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert len(success) == 1, where
        if path.startswith("/api/v1/") and path != "/api/v1/auth/token":
            assert "401" in operation["responses"], where
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in operation["responses"], where
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, where
    assert len(ids) == len(set(ids))
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_request_bodies_carry_examples(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    for path, method, operation in operations(document):
        body = operation.get("requestBody")
        if not body or "application/json" not in body["content"]:
            continue
        schema = body["content"]["application/json"]["schema"]
        refs = [schema.get("$ref")] + [part.get("$ref") for part in schema.get("anyOf", [])]
        ref = next(r for r in refs if r).rsplit("/", 1)[1]
        assert schemas[ref].get("examples"), f"{method.upper()} {path} ({ref}) has no example"
