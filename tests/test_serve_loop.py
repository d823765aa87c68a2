"""`buurtplus serve` runs uvicorn on asyncio's own event loop: under load, with uvloop some
answers waited hundreds of milliseconds while the rest took tens (docs/performance.md)."""

import argparse
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from buurtplus import cli, main, observability
from tests.conftest import make_settings


def test_the_server_runs_on_asyncios_own_event_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(options))
    # What a real server process does at start, not for a test process.
    monkeypatch.setattr(main, "settle_long_lived_objects", lambda: None)
    monkeypatch.setattr(observability, "configure_logging", lambda **_: None)
    one = make_settings(f"sqlite:///{tmp_path / 'serve.db'}", demo=True)
    # Several processes need PostgreSQL; none is reached here, only named.
    several = make_settings("postgresql+psycopg://postgres@127.0.0.1:5432/unused", demo=True)

    assert cli.cmd_serve(argparse.Namespace(workers=None, host=None, port=None), one) == 0
    assert cli.cmd_serve(argparse.Namespace(workers=2, host=None, port=None), several) == 0

    assert [options.get("workers") for options in served] == [None, 2]
    assert [options["loop"] for options in served] == ["asyncio", "asyncio"]
