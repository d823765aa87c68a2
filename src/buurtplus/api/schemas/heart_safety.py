import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from buurtplus.domain.heart_safety.responders import ResponderLevel
from buurtplus.domain.heart_safety.service import HeartSafety


class HourCoverageRead(BaseModel):
    index: int = Field(description="Hour of the week: 0 is Monday 00:00, 167 Sunday 23:00")
    label: str = Field(examples=["Mo 08:00"])
    start: datetime = Field(description="Start of the hour, Europe/Amsterdam")
    minutes: int = Field(
        description="60; 0 for the hour the clocks skip in March, 120 for the one they repeat"
    )
    covered_share: float = Field(
        ge=0, le=1, description="Share of the area within 500 m of an AED open all this hour"
    )
    available_aeds: int = Field(description="AEDs in service, reaching the area, open all hour")


class StretchRead(BaseModel):
    """Consecutive hours with the same coverage."""

    first_index: int
    label: str = Field(examples=["Mo 00:00"])
    start: datetime
    hours: int
    covered_share: float = Field(ge=0, le=1)


class UncoveredRead(BaseModel):
    hour_index: int = Field(description="The hour of the week these places are uncovered in")
    label: str
    start: datetime
    area_m2: float
    geometry: dict[str, Any] = Field(
        description="GeoJSON MultiPolygon (WGS84) of the places out of reach in that hour"
    )


class SuggestedSiteRead(BaseModel):
    """Where one new 24/7 AED would cover the most of what is now uncovered."""

    latitude: float
    longitude: float
    added_mean_m2: float = Field(
        description="Uncovered area it would cover, averaged over the hours of the week"
    )
    added_mean_share: float = Field(
        description="That as a share of the area: how much the week's mean coverage would rise"
    )
    added_worst_hour_m2: float = Field(
        description="Uncovered area it would cover in the least-covered hour"
    )


class AedCountsRead(BaseModel):
    considered: int = Field(description="AEDs you may see in or within 500 m of the area")
    counted: int = Field(description="Of those: active, ready, public access, reaching the area")
    uncertain_hours: int = Field(
        description="Counted AEDs whose hours are unknown or open only 'with a comment' for "
        "some hours; those hours do not count as covered"
    )


class RespondersRead(BaseModel):
    """The team's citizen responders against the rule of thumb of 12 to 20 within 500 m of
    any place. Members have no home positions, so this assumes they are spread evenly: the
    area needs 12 (to 20) per 500 m zone of π·500² m²."""

    responders: int = Field(
        description="Members registered as citizen responder with a CPR certificate valid today"
    )
    area_m2: float = Field(description="The team's area the responders serve")
    zones: float = Field(description="That area in 500 m zones (area / (π·500²))")
    per_zone: float
    needed_low: int = Field(description="12 per zone")
    needed_high: int = Field(description="20 per zone")
    level: ResponderLevel


class ScopeRead(BaseModel):
    kind: Literal["team_area", "buurt", "bbox"]
    buurt_code: str | None = None
    bbox: list[float] | None = Field(default=None, description="min_lon,min_lat,max_lon,max_lat")


class HeartSafetyRead(BaseModel):
    team_id: uuid.UUID
    scope: ScopeRead
    week: str = Field(examples=["2026-W48"])
    week_start: date
    area_m2: float
    mean_covered_share: float = Field(
        ge=0, le=1, description="Coverage averaged over the week, weighted by real duration"
    )
    hours: list[HourCoverageRead] = Field(description="The 168 wall-clock hours of the week")
    least_covered: list[StretchRead] = Field(
        description="The stretches of hours with the lowest coverage, lowest first (at most 5)"
    )
    uncovered: UncoveredRead
    suggested_site: SuggestedSiteRead | None = Field(
        description="null when nothing is left uncovered"
    )
    aeds: AedCountsRead
    responders: RespondersRead


def heart_safety_read(result: HeartSafety) -> HeartSafetyRead:
    report, readiness = result.report, result.responders
    iso = report.monday.isocalendar()
    shown = report.shown_hour
    suggestion = report.suggestion
    return HeartSafetyRead(
        team_id=result.team_id,
        scope=ScopeRead(
            kind=result.scope.kind,
            buurt_code=result.scope.buurt_code,
            bbox=list(result.scope.bbox) if result.scope.bbox else None,
        ),
        week=f"{iso.year}-W{iso.week:02d}",
        week_start=report.monday,
        area_m2=round(report.area_m2, 1),
        mean_covered_share=round(report.mean_share, 4),
        hours=[
            HourCoverageRead(
                index=h.hour.index,
                label=h.hour.label,
                start=h.hour.start,
                minutes=h.hour.minutes,
                covered_share=round(h.covered_share, 4),
                available_aeds=h.available_aeds,
            )
            for h in report.hours
        ],
        least_covered=[
            StretchRead(
                first_index=s.first.index,
                label=s.first.label,
                start=s.first.start,
                hours=s.hours,
                covered_share=s.covered_share,
            )
            for s in report.least_covered
        ],
        uncovered=UncoveredRead(
            hour_index=shown.index,
            label=shown.label,
            start=shown.start,
            area_m2=round(report.uncovered_m2, 1),
            geometry=report.uncovered,
        ),
        suggested_site=None
        if suggestion is None
        else SuggestedSiteRead(
            latitude=suggestion.lat,
            longitude=suggestion.lon,
            added_mean_m2=round(suggestion.added_mean_m2, 1),
            added_mean_share=round(suggestion.added_mean_share, 4),
            added_worst_hour_m2=round(suggestion.added_worst_hour_m2, 1),
        ),
        aeds=AedCountsRead(
            considered=len(report.sites),
            counted=report.counted_aeds,
            uncertain_hours=report.uncertain_aeds,
        ),
        responders=RespondersRead(
            responders=readiness.responders,
            area_m2=round(readiness.area_m2, 1),
            zones=round(readiness.zones, 3),
            per_zone=round(readiness.per_zone, 2),
            needed_low=readiness.needed_low,
            needed_high=readiness.needed_high,
            level=readiness.level,
        ),
    )
