"""Answers written straight to JSON, for the reads asked most.

A route answers a pydantic model as a rule: FastAPI validates it against the route's
`response_model` and dumps it. For a page of fifty signals that is two passes over every value
of every item, and together they took a third of the page's time. The hot routes hand
`json_answer` the plain values instead (the same dict the model would be built from) and
orjson writes them in one pass: UUIDs, aware times (UTC as `Z`, as pydantic writes them), enums
by value. The route keeps its `response_model`, so the contract does not change.

What keeps the two in step: with `check_answers(True)` (the test suite turns it on) every such
answer is also built and dumped by its model, and the bytes must be the same; any field the
dict leaves out, names wrongly or gives in another form fails the test that reads it."""

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel, ValidationError

_OPTIONS = orjson.OPT_UTC_Z
_checking = False


class AnswerMismatch(AssertionError):
    """A fast answer differs from what its model writes."""


def check_answers(on: bool) -> None:
    """Compare every fast answer with its model's own JSON (slow: for tests)."""
    global _checking
    _checking = on


def json_answer(
    model: type[BaseModel],
    content: dict[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`content` (what `model` would be validated from, all values plain) as the answer."""
    body = orjson.dumps(content, option=_OPTIONS)
    if _checking:
        try:
            expected = model.model_validate(content).model_dump_json(by_alias=True).encode()
        except ValidationError as invalid:
            raise AnswerMismatch(
                f"{model.__name__} refuses the fast answer: {invalid}"
            ) from invalid
        if body != expected:
            raise AnswerMismatch(f"{model.__name__}:\n  fast:  {body!r}\n  model: {expected!r}")
    return Response(body, status_code, headers, media_type="application/json")
