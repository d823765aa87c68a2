"""The coverage picture rendered by a real headless browser: it draws what the legend says."""

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from buurtplus.domain.heart_safety.hours import Availability
from buurtplus.domain.heart_safety.picture import (
    COVERED,
    HEIGHT_PX,
    SITE_COLOURS,
    SUGGESTED,
    UNCOVERED,
    WIDTH,
)
from tests.fixtures.factories import Factory
from tests.heart_safety.test_api import OOSTERPARK, url

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("BUURTPLUS_REQUIRE_BROWSER") == "1"

pytestmark = pytest.mark.skipif(
    BROWSER is None and not REQUIRED,
    reason="no chromium here; CI installs it and sets BUURTPLUS_REQUIRE_BROWSER=1",
)


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None, "chromium is required (BUURTPLUS_REQUIRE_BROWSER=1)"
    return subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGBA or RGB pixels of an 8-bit, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6)
    size = 4 if colour_type == 6 else 3
    raw, stride, rows, previous = zlib.decompress(idat), width * size, [], bytes(width * size)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + nearest) & 0xFF
        rows.append(
            bytes(line) if size == 3 else bytes(b for n, b in enumerate(line) if n % 4 != 3)
        )
        previous = bytes(line)
    return width, height, rows


def count_colour(rows: list[bytes], colour: str) -> int:
    rgb = bytes.fromhex(colour.removeprefix("#"))
    return sum(1 for row in rows for n in range(0, len(row), 3) if row[n : n + 3] == rgb)


def test_the_browser_draws_covered_and_uncovered_places_aeds_and_the_legend(
    client: TestClient, make: Factory, tmp_path: Path
) -> None:
    team = make.team(area=OOSTERPARK)
    member = make.member(team)
    make.aed(latitude=52.3600, longitude=4.9205, opening_hours="24/7")
    make.aed(latitude=52.3600, longitude=4.9235, opening_hours="Mo-Fr 08:00-18:00")
    response = client.get(
        url(team, ".svg"), params={"at": "2026-06-08T23:30:00+02:00"}, headers=make.auth(member)
    )
    picture = tmp_path / "coverage.svg"
    picture.write_bytes(response.content)

    shot = tmp_path / "shot.png"
    result = chromium(
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT_PX}",
        picture.as_uri(),
        profile=tmp_path / "profile",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    width, height, rows = read_png(shot)
    assert (width, height) == (WIDTH, HEIGHT_PX)
    assert count_colour(rows, COVERED) > 10_000
    assert count_colour(rows, UNCOVERED) > 10_000
    assert count_colour(rows, SITE_COLOURS[Availability.open]) > 50  # the 24/7 cabinet
    assert count_colour(rows, SITE_COLOURS[Availability.closed]) > 50  # the office, at night
    assert count_colour(rows, SUGGESTED) > 50

    dom = chromium("--dump-dom", picture.as_uri(), profile=tmp_path / "profile").stdout
    assert "Best place for a new 24/7 AED" in dom
    assert "Not covered: no available AED within 500 m" in dom
