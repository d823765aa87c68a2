"""Import and export of the AED registry as files (GeoJSON, CSV, OSM JSON)."""

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from buurtplus.api.deps import ClockDep, CurrentActor, SessionDep, audited_read
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.aed_files import EXAMPLE_CSV, AedImportReport, ImportRowRead
from buurtplus.domain.aeds import transfer
from buurtplus.domain.aeds.formats import MEDIA_TYPES, FileFormat

router = ModuleRouter(prefix="/aeds", tags=["aeds"])


async def raw_body(request: Request) -> bytes:
    return await request.body()


FILE_REF = {"$ref": "#/components/schemas/AedImportFile"}
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file: a GeoJSON FeatureCollection, OSM JSON (Overpass), or CSV "
        "(columns source, latitude, longitude and OSM tag names; `,` or `;`). The body is read "
        "as the `format` says, whatever its Content-Type: send a CSV file as `text/csv` or as "
        "bytes (`application/octet-stream`).",
        "content": {
            "application/json": {"schema": FILE_REF},
            "application/geo+json": {"schema": FILE_REF},
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary"},
                "example": EXAMPLE_CSV,
            },
        },
    }
}


@router.post(
    "/import",
    summary="Import AEDs from a file; idempotent by source id, with a report per row",
    response_model=AedImportReport,
    responses=problems(401, 403, 413, 422),
    openapi_extra=IMPORT_BODY,
)
def import_aeds(
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    data: Annotated[bytes, Depends(raw_body)],
    format_: Annotated[FileFormat, Query(alias="format")] = FileFormat.geojson,
    dry_run: Annotated[bool, Query(description="Report only; store nothing")] = False,
) -> AedImportReport:
    """A coordinator (rows in their team's area) or an admin. The body is the file; `format` says
    how to read it. A row whose source is already registered updates that AED (or is
    `unchanged`); the answer has a line per row with the reasons of every rejection.
    `dry_run=true` stores nothing."""
    report = transfer.import_aeds(
        session, actor=actor, data=data, fmt=format_, dry_run=dry_run, clock=clock
    )
    return AedImportReport(
        dry_run=report.dry_run,
        **{outcome.value: report.count(outcome) for outcome in transfer.RowOutcome},
        rows=[
            ImportRowRead(
                row=r.row,
                source=r.source,
                outcome=r.outcome,
                aed_id=r.aed_id,
                reasons=list(r.reasons),
            )
            for r in report.rows
        ],
    )


@router.get(
    "/export",
    summary="Export the AEDs you may see as GeoJSON, CSV or OSM JSON (imports again)",
    response_class=Response,
    responses={
        200: {
            "description": "The file (never with cabinet codes)",
            "content": {
                "application/geo+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **problems(401, 422),
    },
)
@audited_read
def export_aeds(
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    format_: Annotated[FileFormat, Query(alias="format")] = FileFormat.geojson,
) -> Response:
    """Anyone signed in: the AEDs you may see, in a file that imports again without loss (contact
    persons only where you look after the AED, cabinet codes never)."""
    content = transfer.export_aeds(session, actor=actor, fmt=format_, clock=clock)
    suffix = {"geojson": "geojson", "csv": "csv", "osm": "osm.json"}[format_]
    return Response(
        content,
        media_type=MEDIA_TYPES[format_],
        headers={"Content-Disposition": f'attachment; filename="aeds.{suffix}"'},
    )
