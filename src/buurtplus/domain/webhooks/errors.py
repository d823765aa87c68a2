from buurtplus.core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed


class EndpointNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such webhook endpoint of this partner.")


class DeliveryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such delivery.")


class InvalidWebhookUrl(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__("url", detail)


class InvalidTimeRange(InvalidInput):
    def __init__(self) -> None:
        super().__init__("until", "The end of the range lies before its start.")


class RecoverRangeTooLong(InvalidInput):
    def __init__(self, days: int) -> None:
        super().__init__("until", f"Recover at most {days} days at a time.")


class EndpointDisabled(Conflict):
    def __init__(self) -> None:
        super().__init__("The endpoint is switched off; switch it on first (enabled: true).")


class StaleEndpoint(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The webhook endpoint changed since you read it; read it again and retry.")
