from buurtplus.domain.errors import InvalidInput, NotFound


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
