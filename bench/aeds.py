"""The AED registry at the scale of the whole country: import 100 000 AEDs (GeoJSON, through
the same code as `buurtplus aeds import`), then nearby searches per second against them.

In process, on a fresh SQLite file (or --database-url, which should be an empty database).
Bounded: one import, at most `queries` searches or 30 s of them.
"""

import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Row
from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import make_engine, transaction
from buurtplus.domain.aeds.formats import FileFormat
from buurtplus.domain.aeds.nearby import aeds_near
from buurtplus.domain.aeds.transfer import RowOutcome, import_aeds
from buurtplus.migrate import upgrade

HOURS = [
    "24/7",
    # As common in OSM as 24/7; it took a second to evaluate before hours were normalised.
    "Mo-Su 00:00-24:00",
    "Mo-Sa 08:00-22:00; Su 12:00-18:00; PH off",
    "Mo-Fr 07:30-17:00; PH off",
    "Mo-Fr 08:00-18:00; Sa 10:00-16:00",
    'Mo-Fr 08:00-17:00 "bel aan"',
]
# The Netherlands, roughly (the registry refuses points outside it).
LAT, LON = (50.8, 53.45), (3.45, 7.15)
MOMENT = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)


def geojson(count: int, rng: random.Random) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": f"osm:node/{n + 1}",
            "geometry": {
                "type": "Point",
                "coordinates": [round(rng.uniform(*LON), 7), round(rng.uniform(*LAT), 7)],
            },
            "properties": {
                "emergency": "defibrillator",
                "opening_hours": rng.choice(HOURS),
                "access": rng.choice(["yes", "yes", "permissive", "customers"]),
                "indoor": rng.choice(["yes", "no"]),
                "defibrillator:location": f"Kast {n}",
            },
        }
        for n in range(count)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def run(aeds: int = 100_000, queries: int = 5000, database_url: str | None = None) -> list[Row]:
    rng = random.Random(42)
    clock = FrozenClock(MOMENT)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'aeds.db'}"
        upgrade(url)
        engine = make_engine(url)
        data = geojson(aeds, rng)
        started = time.perf_counter()
        with transaction(engine) as session:
            report = import_aeds(
                session, actor=None, data=data, fmt=FileFormat.geojson, dry_run=False, clock=clock
            )
        elapsed = time.perf_counter() - started
        database = engine.dialect.name
        rows = [Row("AED import (GeoJSON), in process", database, aeds / elapsed, "rows/s")]
        print(
            f"AED import (GeoJSON, {len(data) / 1e6:.0f} MB)   {aeds} AEDs in {elapsed:6.1f} s"
            f"   ({aeds / elapsed:6.0f} rows/s, {report.count(RowOutcome.created)} created)"
        )
        started = time.perf_counter()
        with transaction(engine) as session:
            again = import_aeds(
                session, actor=None, data=data, fmt=FileFormat.geojson, dry_run=False, clock=clock
            )
        elapsed = time.perf_counter() - started
        print(
            f"AED re-import (idempotent)    {aeds} AEDs in {elapsed:6.1f} s"
            f"   ({again.count(RowOutcome.unchanged)} unchanged)"
        )
        # A team member: a public reader with a team area, the common case.
        actor = Actor(user_id=uuid.uuid4(), role=UserRole.volunteer)
        found = 0
        done = 0
        deadline = time.perf_counter() + 30
        started = time.perf_counter()
        with transaction(engine, write=False) as session:
            while done < queries and time.perf_counter() < deadline:
                results = aeds_near(
                    session.connection(),
                    actor=actor,
                    latitude=rng.uniform(*LAT),
                    longitude=rng.uniform(*LON),
                    at=MOMENT,
                    limit=5,
                    radius_m=5000,
                )
                found += len(results)
                done += 1
        elapsed = time.perf_counter() - started
        print(
            f"AED nearby (5 nearest, 5 km)  {done / elapsed:8.0f} queries/s"
            f"   {elapsed / done * 1000:6.2f} ms each   {found / done:.1f} found on average"
            f"   ({engine.dialect.name}, {aeds} AEDs)"
        )
        rows.append(
            Row(
                f"AED nearby, in process, one thread ({aeds} AEDs)",
                database,
                done / elapsed,
                "queries/s",
            )
        )
        engine.dispose()
    return rows


if __name__ == "__main__":
    run()
