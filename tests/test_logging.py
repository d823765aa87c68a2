"""JSON log lines carry every field the code hands the logger, not a fixed few."""

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from buurtplus.observability import configure_logging, request_id_var


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger("buurtplus")
    handlers, level, propagate = root.handlers[:], root.level, root.propagate
    yield
    root.handlers[:], root.propagate = handlers, propagate
    root.setLevel(level)


def test_a_json_line_keeps_the_ids_and_counts_it_was_given(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="info", as_json=True)
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("buurtplus.delivery.worker").warning(
            "delivery failed",
            extra={"signal_id": "s-1", "endpoint_id": "e-1", "attempts": 3, "due": 17},
        )
    finally:
        request_id_var.reset(token)

    (line,) = capsys.readouterr().err.strip().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "delivery failed"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "buurtplus.delivery.worker"
    assert entry["request_id"] == "req-42"
    assert (entry["signal_id"], entry["endpoint_id"]) == ("s-1", "e-1")
    assert (entry["attempts"], entry["due"]) == (3, 17)
    assert entry["time"].endswith("+00:00")


def test_a_json_line_carries_the_exception(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="info", as_json=True)
    try:
        raise ValueError("broken rule")
    except ValueError:
        logging.getLogger("buurtplus.routing").exception("router failed", extra={"signal_id": "s"})

    entry = json.loads(capsys.readouterr().err.strip())
    assert "ValueError: broken rule" in entry["exception"]
    assert entry["signal_id"] == "s"


def test_a_json_line_writes_any_value_it_is_given(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """UUIDs, times and sets as text; an integer beyond 64 bits (which orjson refuses) too."""
    configure_logging(level="info", as_json=True)
    log = logging.getLogger("buurtplus.import")
    given = {"signal_id": uuid.UUID(int=5), "at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC)}
    log.info("imported", extra={**given, "rows": 12, "codes": {"a"}})
    log.info("imported", extra={**given, "rows": 2**70})

    first, second = (json.loads(line) for line in capsys.readouterr().err.strip().splitlines())
    for entry in (first, second):
        assert entry["message"] == "imported"
        assert entry["signal_id"] == "00000000-0000-0000-0000-000000000005"
        assert entry["at"] == "2026-03-02T09:30:00+00:00"
    assert (first["rows"], first["codes"]) == (12, "{'a'}")
    assert second["rows"] == 2**70
