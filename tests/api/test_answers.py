"""Answers written straight to JSON (api/answers.py) are the bytes their model would write; the
suite checks every one it sends (tests/conftest.py), and a difference fails."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel

from buurtplus.api.answers import AnswerMismatch, check_answers, json_answer
from buurtplus.domain.signals.workflow import SignalStatus


class Place(BaseModel):
    latitude: float
    longitude: float


class Item(BaseModel):
    id: uuid.UUID
    status: SignalStatus
    at: datetime
    until: datetime | None
    place: Place | None
    text: str | None
    count: int
    tags: list[str]


def _item(**changes: object) -> dict[str, object]:
    return {
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "status": SignalStatus.routed,
        "at": datetime(2026, 3, 2, 21, 30, 5, 123456, tzinfo=UTC),
        "until": None,
        "place": {"latitude": 52.3601, "longitude": 4.9215},
        "text": "Oudere buurman zit alleen",
        "count": 3,
        "tags": [],
        **changes,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"at": datetime(2026, 3, 2, 21, 30, tzinfo=UTC)},  # no fraction
        {"at": datetime(2026, 7, 1, 9, 0, 0, 1, tzinfo=timezone(timedelta(hours=2)))},
        {"until": datetime(2027, 1, 1, tzinfo=UTC), "place": None, "text": None},
        {"place": {"latitude": -0.0, "longitude": 1e-7}},
        {"text": 'ë, "quotes", \\, a tab\t, a newline\n, \x01, \u2028 and 🚲'},
        {"count": -(2**53), "tags": ["a", "b"]},
    ],
)
def test_a_fast_answer_is_the_bytes_its_model_writes(changes: dict[str, object]) -> None:
    content = {"items": [_item(**changes)], "next_cursor": None}

    class ItemPage(BaseModel):
        items: list[Item]
        next_cursor: str | None

    answer = json_answer(ItemPage, content)

    assert answer.body == ItemPage.model_validate(content).model_dump_json().encode()
    assert answer.media_type == "application/json"
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "content",
    [
        {k: v for k, v in _item().items() if k != "tags"},  # a field left out
        {"count": 3, **{k: v for k, v in _item().items() if k != "count"}},  # out of order
        _item(count=3.0),  # a form the model changes (3)
        _item(status="routed "),  # a value the model refuses
    ],
)
def test_a_fast_answer_that_differs_from_its_model_fails_while_checking(
    content: dict[str, object],
) -> None:
    with pytest.raises(AnswerMismatch, match="Item"):
        json_answer(Item, content)


def test_without_checking_the_values_are_written_as_given() -> None:
    content = {"count": 3, "id": "not checked"}
    check_answers(False)
    try:
        answer = json_answer(Item, content, status_code=201, headers={"ETag": '"1"'})
    finally:
        check_answers(True)
    assert answer.body == b'{"count":3,"id":"not checked"}'
    assert answer.status_code == 201
    assert answer.headers["ETag"] == '"1"'
