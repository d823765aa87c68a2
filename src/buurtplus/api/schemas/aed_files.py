"""AED import files and the row-by-row import report."""

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from buurtplus.domain.aeds.transfer import RowOutcome


class ImportRowRead(BaseModel):
    row: int = Field(description="Feature, element or data line number, from 1")
    source: str | None
    outcome: RowOutcome
    aed_id: uuid.UUID | None
    reasons: list[str]


class AedImportReport(BaseModel):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    rejected: int
    rows: list[ImportRowRead]


EXAMPLE_FILE: dict[str, Any] = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "osm:node/123456789",
            "geometry": {"type": "Point", "coordinates": [4.9215, 52.3601]},
            "properties": {
                "emergency": "defibrillator",
                "defibrillator:location": "Aan de gevel naast de ingang",
                "opening_hours": "24/7",
                "access": "yes",
                "indoor": "no",
                "buurtplus:pads_expiry": "2027-05-31",
            },
        }
    ],
}
EXAMPLE_CSV = (
    "source,latitude,longitude,opening_hours,defibrillator:location\n"
    "AED-0042,52.3601,4.9215,Mo-Fr 08:00-18:00; PH off,In de hal\n"
)


class AedImportFile(BaseModel):
    """An import file: a GeoJSON FeatureCollection with OSM tags as properties
    (`format=geojson`) or Overpass OSM JSON (`format=osm`); CSV goes as text/csv."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [EXAMPLE_FILE]})
