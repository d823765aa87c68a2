"""Reading and writing AED files: GeoJSON (OSM tags as properties), CSV (one column per tag)
and OSM JSON (Overpass output of emergency=defibrillator nodes)."""

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from buurtplus.domain.aeds.errors import UnreadableImport
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.aeds.tags import SOURCE_TAG, TAGS, tags_of


class FileFormat(StrEnum):
    geojson = "geojson"
    csv = "csv"
    osm = "osm"


MEDIA_TYPES = {
    FileFormat.geojson: "application/geo+json",
    FileFormat.csv: "text/csv; charset=utf-8",
    FileFormat.osm: "application/json",
}
SOURCE_PREFIXES = ("osm:", "csv:", "geojson:", "buurtplus:")


@dataclass
class RawRow:
    """One record of a file, before any checking."""

    number: int
    source: str | None
    latitude: Any
    longitude: Any
    tags: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def export_source(aed: Aed) -> str:
    """The source id an export writes: where it came from, or this registry's own id."""
    return aed.source_id or f"buurtplus:{aed.id}"


def _source(value: Any, fmt: FileFormat) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if text.startswith(SOURCE_PREFIXES):
        return text
    if text.startswith(("node/", "way/", "relation/")):
        return f"osm:{text}"
    return f"{fmt}:{text}"


def _tag_values(properties: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    tags: dict[str, str] = {}
    problems = []
    for key, value in properties.items():
        if value is None:
            continue
        if isinstance(value, bool):
            tags[str(key)] = "yes" if value else "no"
        elif isinstance(value, str | int | float):
            tags[str(key)] = str(value)
        else:
            problems.append(f"tag {key!r} is not a single value")
    return tags, problems


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableImport("The file is not valid JSON.") from exc


def read_geojson(data: bytes) -> list[RawRow]:
    document = _json(data)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise UnreadableImport("A GeoJSON import is a FeatureCollection.")
    features = document.get("features")
    if not isinstance(features, list):
        raise UnreadableImport("The FeatureCollection has no list of features.")
    rows = []
    for number, feature in enumerate(features, start=1):
        row = RawRow(number=number, source=None, latitude=None, longitude=None)
        rows.append(row)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.problems.append("not a GeoJSON Feature")
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            row.problems.append("properties is not an object")
            continue
        row.tags, row.problems = _tag_values(properties)
        row.source = _source(feature.get("id") or properties.get("@id"), FileFormat.geojson)
        row.tags.pop("@id", None)
        geometry = feature.get("geometry")
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            not isinstance(geometry, dict)
            or geometry.get("type") != "Point"
            or not isinstance(coordinates, list)
            or len(coordinates) not in (2, 3)
        ):
            row.problems.append("bad coordinates: the geometry is a GeoJSON Point")
            continue
        row.longitude, row.latitude = coordinates[0], coordinates[1]
    return rows


def read_osm_json(data: bytes) -> list[RawRow]:
    document = _json(data)
    elements = document.get("elements") if isinstance(document, dict) else None
    if not isinstance(elements, list):
        raise UnreadableImport("An OSM JSON import has a list of `elements` (Overpass output).")
    rows = []
    for number, element in enumerate(elements, start=1):
        row = RawRow(number=number, source=None, latitude=None, longitude=None)
        rows.append(row)
        if not isinstance(element, dict) or element.get("type") != "node":
            row.problems.append("only OSM nodes are read (use `out center` for ways)")
            continue
        tags = element.get("tags") or {}
        if not isinstance(tags, dict):
            row.problems.append("tags is not an object")
            continue
        row.tags, row.problems = _tag_values(tags)
        row.source = _source(row.tags.get(SOURCE_TAG), FileFormat.osm) or _source(
            f"node/{element.get('id')}" if element.get("id") is not None else None,
            FileFormat.osm,
        )
        if row.tags.get("emergency") != "defibrillator":
            row.problems.append("not tagged emergency=defibrillator")
        row.latitude, row.longitude = element.get("lat"), element.get("lon")
    return rows


def read_csv(data: bytes) -> list[RawRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableImport("The CSV file is not UTF-8 text.") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    missing = {"source", "latitude", "longitude"} - set(header)
    if missing:
        raise UnreadableImport(
            f"The CSV header lacks {sorted(missing)}: the columns are source, latitude, "
            "longitude and OSM tag names."
        )
    rows = []
    try:
        for number, record in enumerate(reader, start=1):
            extra = record.pop(None, None)
            row = RawRow(
                number=number,
                source=_source(record.pop("source", None), FileFormat.csv),
                latitude=record.pop("latitude", None),
                longitude=record.pop("longitude", None),
                tags={k: v for k, v in record.items() if v not in (None, "")},
            )
            if extra:
                row.problems.append("more cells than the header has columns")
            rows.append(row)
    except csv.Error as exc:
        raise UnreadableImport(f"The CSV file is malformed: {exc}") from exc
    return rows


READERS = {
    FileFormat.geojson: read_geojson,
    FileFormat.csv: read_csv,
    FileFormat.osm: read_osm_json,
}


def read_rows(data: bytes, fmt: FileFormat) -> list[RawRow]:
    return READERS[fmt](data)


def guess_format(name: str) -> FileFormat:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return FileFormat.csv
    if lowered.endswith((".geojson", ".geo.json")):
        return FileFormat.geojson
    return FileFormat.osm if lowered.endswith(".osm.json") else FileFormat.geojson


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportItem:
    aed: Aed
    with_contact: bool


def write_geojson(items: Iterable[ExportItem]) -> str:
    features = [
        {
            "type": "Feature",
            "id": export_source(item.aed),
            "geometry": {"type": "Point", "coordinates": [item.aed.longitude, item.aed.latitude]},
            "properties": tags_of(item.aed, with_contact=item.with_contact),
        }
        for item in items
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def write_csv(items: Iterable[ExportItem]) -> str:
    columns = ["source", "latitude", "longitude", "emergency", *(t.tag for t in TAGS)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(
            {
                "source": export_source(item.aed),
                "latitude": repr(item.aed.latitude),
                "longitude": repr(item.aed.longitude),
                **tags_of(item.aed, with_contact=item.with_contact),
            }
        )
    return out.getvalue()


def write_osm_json(items: Iterable[ExportItem]) -> str:
    elements = []
    new_ids = 0
    for item in items:
        tags = tags_of(item.aed, with_contact=item.with_contact)
        source = export_source(item.aed)
        if source.startswith("osm:node/") and source[9:].isdigit():
            node_id = int(source[9:])
        else:
            # Not (yet) in OpenStreetMap: a negative id, as OSM editors number new nodes.
            new_ids -= 1
            node_id = new_ids
            tags[SOURCE_TAG] = source
        elements.append(
            {
                "type": "node",
                "id": node_id,
                "lat": item.aed.latitude,
                "lon": item.aed.longitude,
                "tags": tags,
            }
        )
    return json.dumps(
        {"version": 0.6, "generator": "Buurtpreventie Plus", "elements": elements},
        ensure_ascii=False,
    )


WRITERS = {
    FileFormat.geojson: write_geojson,
    FileFormat.csv: write_csv,
    FileFormat.osm: write_osm_json,
}
