"""Nearby search: nearest first, geodesic distances (checked with pyproj), availability at
holidays and daylight-saving changes, and an index behind every query."""

import math
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlmodel import Session

from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.aeds import nearby
from buurtplus.domain.aeds.geodesy import distance_m
from buurtplus.domain.aeds.models import LATITUDE_CELLS_PER_DEGREE, Aed, latitude_cells
from tests.aeds.conftest import AEDS, DAPPERBUURT, World, square
from tests.fixtures.factories import Factory

GEOD = Geod(ellps="WGS84")
NEARBY = f"{AEDS}/nearby"
ORIGIN = (52.3601, 4.9215)


def geod_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_distances_north_and_east_follow_the_wgs84_ellipsoid() -> None:
    """Short steps north and east measured against the ellipsoid's radii of curvature (an
    independent formula): a swapped latitude and longitude, or a sphere, is far off."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    for latitude in (50.8, 52.0, 53.5):
        sin2 = math.sin(math.radians(latitude)) ** 2
        meridian = a * (1 - e2) / (1 - e2 * sin2) ** 1.5
        parallel = a / math.sqrt(1 - e2 * sin2) * math.cos(math.radians(latitude))
        step = 0.001  # degrees: about 111 m north, 70 m east
        north = distance_m(latitude - step / 2, 5.0, latitude + step / 2, 5.0)
        east = distance_m(latitude, 5.0, latitude, 5.0 + step)
        assert north == pytest.approx(meridian * math.radians(step), abs=0.001)
        assert east == pytest.approx(parallel * math.radians(step), abs=0.001)
    assert distance_m(52.36, 4.92, 52.36, 4.92) == 0.0


def test_distance_across_the_netherlands_is_within_a_spheres_error() -> None:
    rng = random.Random(11)
    for _ in range(1000):
        lat1, lon1 = rng.uniform(50.75, 53.55), rng.uniform(3.35, 7.2)
        lat2, lon2 = lat1 + rng.uniform(-0.5, 0.5), lon1 + rng.uniform(-0.7, 0.7)
        measured = distance_m(lat1, lon1, lat2, lon2)
        assert measured == pytest.approx(distance_m(lat2, lon2, lat1, lon1), abs=1e-6)
        assert measured == pytest.approx(haversine_m(lat1, lon1, lat2, lon2), rel=0.005)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def offset(bearing: float, metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(ORIGIN[1], ORIGIN[0], bearing, metres)
    return lat, lon


def test_nearest_first_with_distance_and_walking_time(
    client: TestClient, make: Factory, world: World
) -> None:
    world_ids = {world.public_aed.id, world.responders_aed.id}
    # Move the fixtures' AEDs away from the origin, so only these count.
    for aed_id in world_ids:
        client.delete(f"{AEDS}/{aed_id}", headers=make.auth(world.admin))
    distances = [900, 120, 1500, 40, 600, 2400, 300]
    rng = random.Random(3)
    made = {}
    for metres in distances:
        lat, lon = offset(rng.uniform(0, 360), metres)
        made[make.aed(latitude=lat, longitude=lon).id] = metres
    response = client.get(
        NEARBY,
        headers=make.auth(world.member_a),
        params={"lat": ORIGIN[0], "lon": ORIGIN[1], "limit": 5, "radius_m": 2000},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["walking_speed_kmh"] == pytest.approx(5.0)
    items = body["items"]
    assert [made[uuid.UUID(i["aed"]["id"])] for i in items] == [40, 120, 300, 600, 900]
    for item in items:
        aed = item["aed"]
        expected = geod_m(ORIGIN[0], ORIGIN[1], aed["latitude"], aed["longitude"])
        assert item["distance_m"] == pytest.approx(expected, abs=0.06)
        assert item["walking_seconds"] == math.ceil(item["distance_m"] / (5000 / 3600)) or (
            abs(item["walking_seconds"] - expected / (5000 / 3600)) <= 1
        )
        assert item["availability"]["state"] == "open"
    # The radius bounds the search: 1500 m and 2400 m are out of a 1000 m radius.
    near = client.get(
        NEARBY,
        headers=make.auth(world.member_a),
        params={"lat": ORIGIN[0], "lon": ORIGIN[1], "limit": 50, "radius_m": 1000},
    ).json()["items"]
    assert len(near) == 5


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [(90.5, 4.9, "query.lat"), (21474837.0, 0.0, "query.lat"), (52.3, -181, "query.lon")],
)
def test_a_point_off_the_globe_is_refused_naming_the_coordinate(
    client: TestClient, make: Factory, world: World, lat: float, lon: float, field: str
) -> None:
    response = client.get(
        NEARBY, headers=make.auth(world.member_a), params={"lat": lat, "lon": lon}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:buurtplus:problem:validation-error"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_point_outside_the_netherlands_is_searched_and_finds_what_is_near(
    client: TestClient, make: Factory, world: World
) -> None:
    """Across the border (Antwerp, 40 km from the nearest AED here): no AEDs, not an error."""
    response = client.get(
        NEARBY, headers=make.auth(world.member_a), params={"lat": 51.2194, "lon": 4.4025}
    )
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_aeds_at_one_spot_are_answered_in_the_order_of_their_ids(
    client: TestClient, make: Factory, world: World
) -> None:
    # A building's AEDs side by side: the same distance, so the id (as written) decides, on
    # every page of the answer alike; the limit takes the first of them in that order.
    for aed_id in (world.public_aed.id, world.responders_aed.id):
        client.delete(f"{AEDS}/{aed_id}", headers=make.auth(world.admin))
    lat, lon = offset(45, 250)
    side_by_side = [str(make.aed(latitude=lat, longitude=lon).id) for _ in range(12)]
    nearer = str(make.aed(latitude=offset(45, 100)[0], longitude=offset(45, 100)[1]).id)

    def answered(limit: int) -> list[str]:
        response = client.get(
            NEARBY,
            headers=make.auth(world.member_a),
            params={"lat": ORIGIN[0], "lon": ORIGIN[1], "limit": limit, "radius_m": 1000},
        )
        assert response.status_code == 200, response.text
        return [item["aed"]["id"] for item in response.json()["items"]]

    assert answered(13) == [nearer, *sorted(side_by_side)]
    assert answered(5) == [nearer, *sorted(side_by_side)[:4]]


def test_only_usable_aeds_unless_asked(client: TestClient, make: Factory, world: World) -> None:
    lat, lon = offset(10, 50)
    make.aed(latitude=lat, longitude=lon, status="defective")
    lat, lon = offset(20, 60)
    closed = make.aed(latitude=lat, longitude=lon, opening_hours="Mo-Fr 18:00-20:00")
    lat, lon = offset(30, 70)
    uncertain = make.aed(latitude=lat, longitude=lon, opening_hours='"op afspraak"')
    params: dict[str, Any] = {"lat": ORIGIN[0], "lon": ORIGIN[1], "limit": 10}
    headers = make.auth(world.member_b)  # cannot see the responders-only AED
    default = client.get(NEARBY, headers=headers, params=params).json()["items"]
    states = {i["aed"]["id"]: i["availability"]["state"] for i in default}
    assert states == {str(world.public_aed.id): "open", str(uncertain.id): "uncertain"}
    everything = client.get(
        NEARBY, headers=headers, params={**params, "include_unavailable": "true"}
    ).json()["items"]
    assert len(everything) == 4
    closed_item = next(i for i in everything if i["aed"]["id"] == str(closed.id))
    assert closed_item["availability"]["state"] == "closed"
    # 09:30 UTC is 10:30 in Amsterdam; it opens at 18:00 local, 17:00 UTC.
    assert closed_item["availability"]["next_change"] == "2026-03-02T17:00:00Z"


def availability(client: TestClient, headers: dict[str, str], at: str) -> dict[str, Any]:
    items = client.get(
        NEARBY,
        headers=headers,
        params={"lat": ORIGIN[0], "lon": ORIGIN[1], "at": at, "include_unavailable": "true"},
    ).json()["items"]
    assert len(items) == 1
    result: dict[str, Any] = items[0]["availability"]
    return result


SHOP = "Mo-Sa 08:00-20:00; Su off; PH off"
DAILY = "Mo-Su 08:00-20:00"


def test_a_closed_aed_nearer_by_gives_its_place_to_an_open_one(
    client: TestClient, make: Factory, world: World
) -> None:
    """Asked for the one nearest usable AED, the answer skips nearer ones that are closed
    at that moment, however many there are."""
    for aed_id in (world.public_aed.id, world.responders_aed.id):
        client.delete(f"{AEDS}/{aed_id}", headers=make.auth(world.admin))
    for metres in (5, 80, 120):
        lat, lon = offset(90, metres)
        make.aed(latitude=lat, longitude=lon, opening_hours="Mo-Fr 18:00-20:00")
    lat, lon = offset(270, 400)
    open_one = make.aed(latitude=lat, longitude=lon)
    params = {"lat": ORIGIN[0], "lon": ORIGIN[1], "limit": 1, "at": "2026-03-02T10:00:00+01:00"}
    items = client.get(NEARBY, headers=make.auth(world.member_b), params=params).json()["items"]
    assert [(i["aed"]["id"], i["availability"]["state"]) for i in items] == [
        (str(open_one.id), "open")
    ]
    assert 399 < items[0]["distance_m"] < 401


@pytest.mark.parametrize(
    ("hours", "at", "state", "next_change"),
    [
        # Koningsdag 2026 is Monday 27 April: a shop with "PH off" stays shut all day.
        (SHOP, "2026-04-27T10:00:00+02:00", "closed", "2026-04-28T06:00:00Z"),
        (SHOP, "2026-04-28T10:00:00+02:00", "open", "2026-04-28T18:00:00Z"),
        # Christmas Day and Boxing Day (Friday and Saturday), then a Sunday.
        (SHOP, "2026-12-25T12:00:00+01:00", "closed", "2026-12-28T07:00:00Z"),
        # Sunday 29 March 2026 the clocks go from 02:00 to 03:00: 08:00 is 06:00 UTC, no
        # longer 07:00 UTC.
        (DAILY, "2026-03-28T19:30:00Z", "closed", "2026-03-29T06:00:00Z"),
        (DAILY, "2026-03-29T05:30:00Z", "closed", "2026-03-29T06:00:00Z"),
        (DAILY, "2026-03-29T06:30:00Z", "open", "2026-03-29T18:00:00Z"),
        # Sunday 25 October 2026 back from 03:00 to 02:00: 08:00 is 07:00 UTC again.
        (DAILY, "2026-10-24T18:30:00Z", "closed", "2026-10-25T07:00:00Z"),
        (DAILY, "2026-10-25T06:30:00Z", "closed", "2026-10-25T07:00:00Z"),
        (DAILY, "2026-10-25T07:30:00Z", "open", "2026-10-25T19:00:00Z"),
    ],
)
def test_availability_at_holidays_and_clock_changes(
    client: TestClient,
    make: Factory,
    world: World,
    hours: str,
    at: str,
    state: str,
    next_change: str,
) -> None:
    for aed in (world.public_aed, world.responders_aed):
        client.delete(f"{AEDS}/{aed.id}", headers=make.auth(world.admin))
    make.aed(opening_hours=hours)
    result = availability(client, make.auth(world.admin), at)
    assert (result["state"], result["next_change"]) == (state, next_change)


def test_search_reads_the_spatial_index(
    client: TestClient, make: Factory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app: Any = client.app
    engine = app.state.engine
    rng = random.Random(5)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with Session(engine) as session:
        session.add_all(
            Aed(
                latitude=rng.uniform(50.8, 53.5),
                longitude=rng.uniform(3.4, 7.1),
                access="yes",
                status="active",
                visibility="public",
                opening_hours="24/7",
                created_at=now,
                updated_at=now,
            )
            for _ in range(5000)
        )
        session.commit()
        if engine.dialect.name == "postgresql":
            session.connection().exec_driver_sql("ANALYZE aeds")
            session.commit()
    statements: list[tuple[str, Any]] = []
    # The box is read on the driver's cursor (a PlainQuery): record what it gives the driver.
    searched = PlainQuery.all

    def capture(query: PlainQuery, connection: Any, **values: Any) -> list[Any]:
        sql, parameters = query.driver_call(connection.dialect, **values)
        if "FROM aeds" in sql and "latitude BETWEEN" in sql:
            statements.append((sql, parameters))
        return searched(query, connection, **values)

    monkeypatch.setattr(PlainQuery, "all", capture)
    response = client.get(
        NEARBY, headers=make.auth(world.admin), params={"lat": ORIGIN[0], "lon": ORIGIN[1]}
    )
    assert response.status_code == 200
    assert statements
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        for statement, parameters in statements:
            plan = " ".join(
                str(row[-1]) if engine.dialect.name == "sqlite" else str(row[0])
                for row in connection.exec_driver_sql(explain + statement, parameters)
            )
            # Without statistics SQLite takes the cell index; PostgreSQL's planner, with them,
            # may judge a small box cheaper on the (latitude, longitude) one.
            used = ("ix_aeds_latitude_cell",)
            if engine.dialect.name == "postgresql":
                used += ("ix_aeds_latitude_longitude",)
            assert any(index in plan for index in used), plan
            assert "SCAN aeds" not in plan and "Seq Scan" not in plan, plan


def test_a_team_whose_area_changes_sees_the_responders_aeds_of_its_new_area(
    client: TestClient, make: Factory, world: World
) -> None:
    """A team's area is worked out once per version of the team: a change is seen at once."""
    member, coordinator = make.auth(world.member_b), make.auth(world.coordinator_b)
    params = {"lat": 52.3610, "lon": 4.9230, "limit": 5, "radius_m": 500}
    team_url = f"/api/v1/teams/{world.team_b.id}"

    def seen() -> set[str]:
        items = client.get(NEARBY, headers=member, params=params).json()["items"]
        return {item["aed"]["id"] for item in items}

    def move_area(area: dict[str, Any]) -> None:
        etag = client.get(team_url, headers=coordinator).headers["ETag"]
        answer = client.patch(
            team_url, json={"area": area}, headers={**coordinator, "If-Match": etag}
        )
        assert answer.status_code == 200, answer.text

    public, responders = str(world.public_aed.id), str(world.responders_aed.id)
    assert seen() == {public}
    move_area(square(4.920, 52.358, 4.945, 52.368))  # now holds the responders AED
    assert seen() == {public, responders}
    move_area(DAPPERBUURT)
    assert seen() == {public}


def test_an_aed_hidden_while_it_is_searched_is_not_answered(
    client: TestClient, make: Factory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The AEDs answered are read a moment after the box that chose them: one made `responders`
    in between is left out for a reader outside its team's area."""
    app: Any = client.app
    loner = make.auth(world.loner)
    params = {"lat": 52.3610, "lon": 4.9230, "limit": 5, "radius_m": 500}
    public = str(world.public_aed.id)

    def seen() -> set[str]:
        items = client.get(NEARBY, headers=loner, params=params).json()["items"]
        return {item["aed"]["id"] for item in items}

    assert public in seen()
    chosen_by = nearby._by_ids

    def hidden_meanwhile(count: int) -> Any:
        with Session(app.state.engine) as session:
            aed = session.get(Aed, world.public_aed.id)
            assert aed is not None
            aed.visibility = "responders"
            session.add(aed)
            session.commit()
        return chosen_by(count)

    monkeypatch.setattr(nearby, "_by_ids", hidden_meanwhile)
    assert public not in seen()


def test_a_boxs_cells_hold_every_latitude_in_it_truncated_or_rounded() -> None:
    """SQLite's cast truncates a latitude's hundredfold, PostgreSQL's rounds (half to even):
    whichever the database does, every latitude in the box is in one of the cells asked."""
    rng = random.Random(11)
    edges = [k / 100 + offset for k in range(-9000, 9001, 37) for offset in (0, 0.005, -1e-12)]
    for _ in range(20_000):
        low = rng.choice(edges) if rng.random() < 0.5 else rng.uniform(-90, 90)
        high = min(90.0, low + rng.choice([0.0, 1e-9, 0.0045, 0.0181, 0.0362, 0.181]))
        cells = latitude_cells(low, high)
        for latitude in (low, high, (low + high) / 2, math.nextafter(high, low)):
            hundredfold = latitude * LATITUDE_CELLS_PER_DEGREE
            assert math.trunc(hundredfold) in cells
            assert round(hundredfold) in cells


def test_the_cell_box_reads_what_the_latitude_box_read_at_cell_edges(app: Any) -> None:
    """AEDs at and next to the cells' edges (where truncating and rounding part), read with
    boxes whose edges are AEDs' own latitudes: the cell query finds exactly the AEDs in the box,
    on either database."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    latitudes = sorted(
        {
            k / 100 + offset
            for k in range(5230, 5241)
            for offset in (0, 1e-9, -1e-9, 0.0049999, 0.005, 0.0050001, 0.0099999)
        }
    )
    with Session(app.state.engine) as session:
        session.add_all(
            Aed(
                latitude=latitude,
                longitude=4.9 + n % 5 * 0.001,
                access="yes",
                status="active",
                visibility="public",
                created_at=now,
                updated_at=now,
            )
            for n, latitude in enumerate(latitudes)
        )
        session.commit()
    rng = random.Random(4)
    with app.state.engine.connect() as connection:
        for _ in range(300):
            low, high = sorted(rng.sample(latitudes, 2))
            cells = latitude_cells(low, high)
            values = {"min_lat": low, "max_lat": high, "min_lon": 4.8, "max_lon": 5.0}
            values.update((f"cell_{n}", cell) for n, cell in enumerate(cells))
            found = nearby._box(usable_only=False, cells=len(cells)).all(connection, **values)
            assert sorted(row.latitude for row in found) == [
                latitude for latitude in latitudes if low <= latitude <= high
            ]
