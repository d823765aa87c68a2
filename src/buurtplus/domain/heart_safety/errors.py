from buurtplus.core.errors import Conflict, InvalidInput


class TeamHasNoArea(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The team has no area yet, so there is nothing to measure coverage of. Give it one: "
            "change the team (PATCH /api/v1/teams/{team_id}) with `area`, a GeoJSON Polygon or "
            "MultiPolygon in WGS84 [longitude, latitude] that outlines the neighbourhood; or ask "
            "for a bounding box with `bbox`."
        )


class BuurtNotOfTeam(InvalidInput):
    def __init__(self, code: str) -> None:
        super().__init__("query.buurt_code", f"Buurt {code} is not one of the team's buurten.")


class BuurtBoundaryUnknown(InvalidInput):
    def __init__(self, code: str) -> None:
        super().__init__(
            "query.buurt_code",
            f"The boundary of buurt {code} is not known here: the team covers several buurten "
            "and has one area for all of them. Ask for the team's area, or a `bbox`.",
        )


class OutsideTeamArea(InvalidInput):
    def __init__(self) -> None:
        super().__init__("query.bbox", "The bounding box does not overlap the team's area.")


class AreaTooLarge(InvalidInput):
    def __init__(self, field: str, km2: float, limit_km2: float) -> None:
        super().__init__(
            field,
            f"The area is {km2:.0f} km²; coverage is worked out for at most {limit_km2:.0f} km² "
            "at a time (a town, not a province).",
        )


class NotAWeek(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__("query.week", detail)


class InvalidBox(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__("query.bbox", detail)
