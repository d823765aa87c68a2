from buurtplus.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)


class PatrolNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such patrol, or it is not yours to see.")


class ObservationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such observation on this patrol.")


class ParticipantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That user is not signed up for this patrol.")


class PatrolsNotForPartners(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("Patrols belong to the teams; partner organisations do not see them.")


class UnknownTeam(InvalidInput):
    def __init__(self) -> None:
        super().__init__("team_id", "No such team, or it is not yours to see.")


class EndBeforeStart(InvalidInput):
    def __init__(self) -> None:
        super().__init__("planned_end", "planned_end must lie after planned_start.")


class PatrolTooLong(InvalidInput):
    def __init__(self, hours: int) -> None:
        super().__init__("planned_end", f"A patrol lasts at most {hours} hours.")


class NotAMemberOfTheTeam(InvalidInput):
    def __init__(self) -> None:
        super().__init__("user_id", "That user is not a member of the patrol's team.")


class AlreadySignedUp(Conflict):
    def __init__(self) -> None:
        super().__init__("That user is signed up for this patrol already.")


class PatrolClosed(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"The patrol is {status}: nobody signs up or off any more.")


class PatrolNotPlanned(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"The patrol is {status}: only a planned patrol can be changed.")


class PatrolTransitionNotAllowed(Conflict):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(
            f"The step '{action}' does not exist for a patrol that is {status}: "
            "see allowed_transitions."
        )


class StalePatrol(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The patrol changed since you read it; read it again and retry.")


class ActualTimeInvalid(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__("at", detail)


class PatrolNotWalked(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(
            f"The patrol is {status}: observations are logged on a round that has started."
        )


class ObservedOutsidePatrol(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__("observed_at", detail)


class ObservationIdTaken(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "A different observation with this client_id exists already on this patrol."
        )


class CategoryRequired(InvalidInput):
    def __init__(self, kind: str) -> None:
        super().__init__(
            "category", f"An observation of kind '{kind}' has no default category: say which."
        )


class AlreadyPromoted(Conflict):
    def __init__(self) -> None:
        super().__init__("Someone else made a signal of this observation already.")


class InvalidPeriod(InvalidInput):
    def __init__(self) -> None:
        super().__init__("query.to", "`to` must lie after `from`.")
