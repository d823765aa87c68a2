"""Structured logs: each line carries the id of the request it belongs to and every field the
code gave it in `extra` (signal_id, endpoint_id, counts), written by python-json-logger with
orjson (a line per request: the standard library's encoder took twice as long)."""

import json
import logging
import sys
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonEncoder
from pythonjsonlogger.orjson import OrjsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class _LineFormatter(OrjsonFormatter):
    """A value orjson cannot write (an integer beyond 64 bits) is written by the standard
    library's encoder instead: the line is never lost."""

    def jsonify_log_record(self, log_data: dict[str, Any]) -> str:
        try:
            return super().jsonify_log_record(log_data)
        except TypeError:
            return json.dumps(log_data, cls=JsonEncoder, ensure_ascii=False)


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id,
    the exception if any, and whatever else the record carries."""
    return _LineFormatter(
        "{levelname}{name}{message}",
        style="{",
        timestamp="time",
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
    )


def configure_logging(*, level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if as_json:
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger("buurtplus")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
