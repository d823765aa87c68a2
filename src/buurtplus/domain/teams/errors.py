from buurtplus.core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed


class TeamNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such team, or it is not yours to see.")


class MemberNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That user is not a member of this team.")


class TeamNameTaken(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"The municipality has a team named {name!r} already.")


class AlreadyMember(Conflict):
    def __init__(self) -> None:
        super().__init__("That user is a member of this team already.")


class BuurtOutsideMunicipality(InvalidInput):
    def __init__(self, code: str, municipality_code: str) -> None:
        super().__init__(
            "buurt_codes",
            f"Buurt code {code} does not lie in municipality {municipality_code}: "
            f"a buurt code starts with BU followed by the municipality's four digits.",
        )


class UnknownAccount(InvalidInput):
    def __init__(self) -> None:
        super().__init__("email", "No active volunteer account has this e-mail address.")


class InAnotherTeam(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "This volunteer is already in another team. A coordinator adds only volunteers who "
            "are in no team yet; joining a second team is done by an admin at the volunteer's "
            "request."
        )


class TeamHasSignals(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The team has signals on record; they are kept for their partners and statistics, "
            "so the team cannot be deleted."
        )


class StaleTeam(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The team changed since you read it; read it again and retry.")


class StaleMember(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The membership changed since you read it; read it again and retry.")
