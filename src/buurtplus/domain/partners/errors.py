from buurtplus.core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed


class PartnerNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such partner organisation.")


class PartnerNameTaken(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"A partner organisation named {name!r} exists already.")


class PartnerInUse(Conflict):
    def __init__(self) -> None:
        super().__init__("Signals or routing rules refer to this partner; it cannot be deleted.")


class ClientNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such client of this partner.")


class PartnerRequired(InvalidInput):
    def __init__(self) -> None:
        super().__init__("partner_id", "A partner account belongs to one partner organisation.")


class PartnerNotAllowed(InvalidInput):
    def __init__(self) -> None:
        super().__init__("partner_id", "Only partner accounts belong to a partner organisation.")


class UnknownPartner(InvalidInput):
    def __init__(self) -> None:
        super().__init__("partner_id", "No partner organisation has this id.")


class StalePartner(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__(
            "The partner organisation changed since you read it; read it again and retry."
        )
