from buurtplus.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)


class UnknownCategory(InvalidInput):
    def __init__(self, code: str) -> None:
        super().__init__("category", f"There is no active category {code!r}.")


class PlusModeRequired(InvalidInput):
    def __init__(self, code: str) -> None:
        super().__init__(
            "category",
            f"Category {code!r} is a social signal; this team does not take on social signals "
            "(Plus mode is off). In acute danger call 112.",
        )


class TeamRequired(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__("team_id", detail)


class ObservedInFuture(InvalidInput):
    def __init__(self) -> None:
        super().__init__("observed_at", "observed_at lies in the future.")


class NotAReporter(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("Only volunteers in a team report signals.")


class SignalNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such signal, or it is not yours to see.")


class SignalIdTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("A different signal with this id exists already.")


class IdempotencyKeyReused(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key",
            "This Idempotency-Key was used for a different request; use a new key.",
        )


class TransitionNotAllowed(Conflict):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(
            f"The step {action!r} does not exist for a signal that is {status}: "
            "see allowed_transitions."
        )


class StaleSignal(PreconditionFailed):
    """The client's copy (If-Match) is older than the stored signal."""

    def __init__(self) -> None:
        super().__init__("The signal changed since you read it; read it again and retry.")


class OutcomeRequired(InvalidInput):
    def __init__(self) -> None:
        super().__init__("outcome", "Closing a signal needs an outcome.")


class BuurtOutsideTeamMunicipality(InvalidInput):
    def __init__(self, code: str, municipality: str) -> None:
        super().__init__(
            "buurt_code", f"Buurt {code} does not lie in the team's municipality {municipality}."
        )


class PartnerDeclined(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "partner_id",
            'This partner declined the signal ("not ours"); route it to another partner.',
        )


class OutsideServiceArea(InvalidInput):
    def __init__(self, municipality: str) -> None:
        super().__init__(
            "partner_id", f"This partner does not serve the team's municipality {municipality}."
        )
