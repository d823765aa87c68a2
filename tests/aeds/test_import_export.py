"""Import (GeoJSON, CSV, OSM JSON) is idempotent by source id and reports every row; an export
imports again without loss."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, func, select

from buurtplus.domain.aeds.models import Aed
from tests.aeds.conftest import AEDS, World
from tests.fixtures.factories import Factory
from tests.fixtures.server import run_cli

IMPORT = f"{AEDS}/import"
EXPORT = f"{AEDS}/export"


def feature(source: str | None, lon: Any, lat: Any, **tags: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"emergency": "defibrillator", "opening_hours": "24/7", **tags},
    }
    if source is not None:
        found["id"] = source
    return found


def collection(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def count_aeds(client: TestClient) -> int:
    app: Any = client.app
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(Aed)).one()


GOOD = [
    feature("osm:node/1001", 4.9200, 52.3600, **{"defibrillator:location": "In de hal"}),
    feature("node/1002", 4.9250, 52.3620, indoor="yes", level="0", access="customers"),
    feature(
        "csv:shop-7",
        4.9180,
        52.3590,
        opening_hours="Mo-Sa 08:00-20:00; PH off",
        operator="Supermarkt",
        **{"addr:postcode": "1091 AB", "buurtplus:pads_expiry": "2027-01-31"},
    ),
]
BROKEN = [
    feature("osm:node/2001", 52.36, 4.92),  # latitude and longitude swapped
    feature("osm:node/2002", "oost", 52.36),
    feature("osm:node/2003", 4.92, 52.36, opening_hours="Mo-Fr 25:00-26:00"),
    feature("osm:node/2004", 4.92, 52.36, colour="green"),
    feature(None, 4.92, 52.36),
    feature("osm:node/1001", 4.92, 52.36),  # the same source as the first row
    {"type": "Feature", "id": "osm:node/2005", "properties": {}, "geometry": None},
]


def post_import(
    client: TestClient, headers: dict[str, str], body: bytes, **params: Any
) -> dict[str, Any]:
    response = client.post(IMPORT, headers=headers, params=params, content=body)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def test_import_reports_every_row_and_is_idempotent(
    client: TestClient, make: Factory, world: World
) -> None:
    headers = make.auth(world.admin)
    before = count_aeds(client)
    report = post_import(client, headers, collection(*GOOD, *BROKEN))
    assert (report["created"], report["rejected"]) == (3, 7)
    reasons = {row["row"]: " ".join(row["reasons"]) for row in report["rows"]}
    assert "outside the Netherlands" in reasons[4]
    assert "bad coordinates" in reasons[5]
    assert "opening_hours" in reasons[6]
    assert "unknown tag 'colour'" in reasons[7]
    assert "no source id" in reasons[8]
    assert "the same source as row 1" in reasons[9]
    assert "bad coordinates" in reasons[10]
    assert [row["source"] for row in report["rows"][:3]] == [
        "osm:node/1001",
        "osm:node/1002",
        "csv:shop-7",
    ]
    assert count_aeds(client) == before + 3

    again = post_import(client, headers, collection(*GOOD))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    changed = [feature("osm:node/1001", 4.9200, 52.3600, level="-1"), *GOOD[1:]]
    third = post_import(client, headers, collection(*changed))
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 2)
    assert count_aeds(client) == before + 3
    listed = client.get(AEDS, headers=headers, params={"limit": 200}).json()["items"]
    shop = next(a for a in listed if a["source"] == "csv:shop-7")
    assert shop["addr_postcode"] == "1091AB"
    assert shop["pads_expiry"] == "2027-01-31"


def test_a_dry_run_stores_nothing(client: TestClient, make: Factory, world: World) -> None:
    before = count_aeds(client)
    report = post_import(
        client, make.auth(world.admin), collection(*GOOD, BROKEN[0]), dry_run="true"
    )
    assert report["dry_run"] is True
    assert (report["created"], report["rejected"]) == (3, 1)
    assert count_aeds(client) == before


OVERPASS = {
    "version": 0.6,
    "generator": "Overpass API",
    "elements": [
        {
            "type": "node",
            "id": 4242,
            "lat": 52.3612,
            "lon": 4.9222,
            "tags": {
                "emergency": "defibrillator",
                "defibrillator:location": "Aan de gevel van de apotheek",
                "opening_hours": "24/7",
                "phone": "+31 20 555 0101",
                "check_date": "2025-06-01",
                "name:nl": "AED apotheek",
            },
        },
        {"type": "node", "id": 4243, "lat": 52.3613, "lon": 4.9223, "tags": {"shop": "bakery"}},
        {"type": "way", "id": 99, "tags": {"emergency": "defibrillator"}},
    ],
}


def test_overpass_json(client: TestClient, make: Factory, world: World) -> None:
    report = post_import(
        client, make.auth(world.admin), json.dumps(OVERPASS).encode(), format="osm"
    )
    outcomes = [(r["source"], r["outcome"]) for r in report["rows"]]
    assert outcomes[0] == ("osm:node/4242", "created")
    assert [o for _, o in outcomes[1:]] == ["rejected", "rejected"]
    assert "not tagged emergency=defibrillator" in report["rows"][1]["reasons"]


def test_csv_with_semicolons(client: TestClient, make: Factory, world: World) -> None:
    body = (
        b"source;latitude;longitude;opening_hours;access;indoor\n"
        b"AED-1;52.3601;4.9210;24/7;yes;no\n"
        b"AED-2;52,3601;4.9210;24/7;yes;no\n"
        b"AED-3;52.3602;4.9211;Mo-Fr 08:00-18:00;everyone;no\n"
    )
    report = post_import(client, make.auth(world.admin), body, format="csv")
    assert [r["outcome"] for r in report["rows"]] == ["created", "rejected", "rejected"]
    assert report["rows"][0]["source"] == "csv:AED-1"
    assert "access 'everyone'" in report["rows"][2]["reasons"][0]


def test_a_coordinator_imports_only_into_their_area(
    client: TestClient, make: Factory, world: World
) -> None:
    inside = feature("osm:node/1", 4.9200, 52.3600)
    outside = feature("osm:node/2", 4.9380, 52.3640)  # Dapperbuurt
    report = post_import(client, make.auth(world.coordinator_a), collection(inside, outside))
    assert [r["outcome"] for r in report["rows"]] == ["created", "rejected"]
    assert report["rows"][1]["reasons"] == ["outside the area of the teams you coordinate"]
    refused = client.post(IMPORT, headers=make.auth(world.member_a), content=collection(inside))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("fmt", "body"),
    [("geojson", b"{not json"), ("geojson", b'{"type": "Point"}'), ("csv", b"lat,lon\n1,2\n")],
)
def test_an_unreadable_file_is_a_clear_problem(
    client: TestClient, make: Factory, world: World, fmt: str, body: bytes
) -> None:
    response = client.post(
        IMPORT, headers=make.auth(world.admin), params={"format": fmt}, content=body
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:buurtplus:problem:unreadable-import"


FULL = {
    "latitude": 52.36123456789,
    "longitude": 4.92198765432,
    "addr_street": "Linnaeusstraat",
    "addr_housenumber": "2A",
    "addr_postcode": "1092CK",
    "addr_city": "Amsterdam",
    "buurt_code": "BU0363MA01",
    "defibrillator_location": 'Kast links van de deur, "AED" op de gevel; bel aan',
    "indoor": True,
    "level": "0",
    "access": "permissive",
    "opening_hours": 'Mo-Fr 08:00-18:00; Sa 10:00-16:00 "bel aan"; PH off',
    "cabinet_locked": True,
    "cabinet_code": "8642",
    "operator": "Huisartsenpraktijk Oost",
    "contact_name": "Dr. A. Bakker",
    "contact_phone": "+31 20 555 0199",
    "manufacturer": "Zoll",
    "model": "AED Plus",
    "pads_expiry": "2027-03-31",
    "battery_expiry": "2030-12-31",
    "status": "defective",
    "visibility": "responders",
}
VOLATILE = {"version", "created_at", "updated_at", "availability", "may_manage"}


def registry(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every AED's fields, by source (by id for those entered by hand)."""
    items = client.get(AEDS, headers=headers, params={"limit": 200}).json()["items"]
    return {
        a["id"] if a["source"] == "manual" else a["source"]: {
            k: v
            for k, v in a.items()
            if k not in VOLATILE and not (k == "id" and a["source"] != "manual")
        }
        for a in items
    }


@pytest.mark.parametrize("fmt", ["geojson", "csv", "osm"])
def test_an_export_imports_again_without_loss(
    client: TestClient, make: Factory, world: World, fmt: str
) -> None:
    headers = make.auth(world.admin)
    full = client.post(
        AEDS, headers=headers, json={**FULL, "maintainer_partner_id": str(world.maintainer.id)}
    )
    assert full.status_code == 201
    client.post(
        AEDS,
        headers=headers,
        json={"latitude": 52.3599, "longitude": 4.9201, "source": "osm:node/777"},
    )
    before = registry(client, headers)
    exported = client.get(EXPORT, headers=headers, params={"format": fmt})
    assert exported.status_code == 200
    assert "8642" not in exported.text

    same = post_import(client, headers, exported.content, format=fmt)
    assert same["unchanged"] == len(before) and same["rejected"] == 0, same

    app: Any = client.app
    with Session(app.state.engine) as session:
        session.connection().execute(text("DELETE FROM aeds"))
        session.commit()
    fresh = post_import(client, headers, exported.content, format=fmt)
    assert fresh["created"] == len(before), fresh
    after = registry(client, headers)
    # The cabinet code is never exported, so it is the one thing a fresh import lacks.
    for fields in before.values():
        fields["cabinet_code_set"] = False
    assert after == before


def test_the_command_line_imports_with_a_report(clean_database: str, tmp_path: Path) -> None:
    env = {"BUURTPLUS_DATABASE_URL": clean_database}
    path = tmp_path / "aeds.geojson"
    path.write_bytes(collection(*GOOD, BROKEN[3]))
    dry = run_cli("aeds", "import", str(path), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "Dry run, nothing stored: 3 created, 0 updated, 0 unchanged, 1 rejected." in dry.stdout
    assert "row 4 (osm:node/2004): rejected: unknown tag 'colour'" in dry.stdout
    assert "100%" in dry.stderr
    stored = run_cli("aeds", "import", str(path), "--quiet", env=env)
    assert "3 created" in stored.stdout
    again = run_cli("aeds", "import", str(path), "--quiet", env=env)
    assert "0 created, 0 updated, 3 unchanged, 1 rejected." in again.stdout
