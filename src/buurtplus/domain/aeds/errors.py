from buurtplus.core.errors import InvalidInput, NotFound, PreconditionFailed


class AedNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such AED, or not one you may see.")


class StaleAed(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The AED changed since you read it; read it again and retry.")


class InvalidOpeningHours(InvalidInput):
    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(
            "opening_hours",
            f"{expression!r} is not a valid OSM opening_hours value ({reason}); "
            "examples: '24/7', 'Mo-Fr 08:00-18:00; PH off'.",
        )


class OutsideYourArea(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "latitude",
            "This place is outside the area of the teams you coordinate; an admin or the "
            "coordinator of that area registers it.",
        )


class UnknownMaintainer(InvalidInput):
    def __init__(self) -> None:
        super().__init__("maintainer_partner_id", "No such partner organisation.")


class SourceTaken(InvalidInput):
    def __init__(self, source: str) -> None:
        super().__init__("source", f"Another AED in the registry has source {source!r}.")


class AedRetired(InvalidInput):
    def __init__(self) -> None:
        super().__init__("aed_id", "This AED is retired; it takes no changes or checks.")


class NotOnThatPatrol(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "patrol_id", "No such patrol of yours: you are not a participant or its coordinator."
        )


class UnreadableImport(InvalidInput):
    """The file as a whole could not be read (no rows to report on)."""

    def __init__(self, detail: str) -> None:
        super().__init__("body", detail)
