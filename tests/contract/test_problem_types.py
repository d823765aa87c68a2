"""Each operation lists the problem types it can answer (`x-problem-types`), and declares the
status of each: checked against what its route can raise, read from the source."""

import json
from pathlib import Path

import buurtplus
from buurtplus.api.contract import TYPE_PREFIX, operations
from buurtplus.api.errors import STATUS_OF, _kebab
from buurtplus.api.problem_types import RAISES
from buurtplus.cli import openapi_document
from buurtplus.core.errors import DomainError
from tests.contract.raises import raised_by_routes


def status_of(error: type[DomainError]) -> str:
    for cls in error.__mro__:
        if cls in STATUS_OF:
            return str(int(STATUS_OF[cls]))
    return "400"


def test_every_problem_a_route_can_raise_is_listed_with_its_status() -> None:
    document = json.loads(openapi_document())
    by_id = {operation["operationId"]: operation for _, _, operation in operations(document)}
    raised = raised_by_routes(Path(buurtplus.__file__).parent)
    missing = []
    for name, errors in raised.items():
        operation_id = name.split("_")[0] + "".join(p.capitalize() for p in name.split("_")[1:])
        if operation_id not in by_id:
            continue  # the webhooks partners receive: nothing is raised there
        operation = by_id[operation_id]
        for error in errors:
            listed = TYPE_PREFIX + _kebab(error.__name__) in operation["x-problem-types"]
            declared = status_of(error) in operation["responses"]
            if not (listed and declared):
                missing.append(f"{operation_id}: {error.__name__} ({status_of(error)})")
    assert missing == []
    assert set(RAISES) <= set(by_id), "an operation listed in RAISES no longer exists"


def test_the_listed_types_are_the_ones_clients_get() -> None:
    document = json.loads(openapi_document())
    report = next(op for _, _, op in operations(document) if op["operationId"] == "reportSignal")
    assert {
        TYPE_PREFIX + "unauthenticated",
        TYPE_PREFIX + "validation-error",
        TYPE_PREFIX + "plus-mode-required",
        TYPE_PREFIX + "idempotency-key-reused",
        TYPE_PREFIX + "internal-error",
    } <= set(report["x-problem-types"])
