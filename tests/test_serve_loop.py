"""`buurtplus serve` runs uvicorn on asyncio's own event loop: under load uvloop kept some
answers waiting hundreds of milliseconds while it served others (docs/performance.md)."""

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
    settings = make_settings(f"sqlite:///{tmp_path / 'serve.db'}", demo=True)
    args = argparse.Namespace(workers=None, host=None, port=None)

    assert cli.cmd_serve(args, settings) == 0

    assert [options["loop"] for options in served] == ["asyncio"]
