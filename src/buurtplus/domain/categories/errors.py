from buurtplus.core.errors import Conflict, NotFound, PreconditionFailed


class CategoryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such category.")


class CategoryCodeTaken(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(f"A category with code {code!r} exists already.")


class StaleCategory(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The category changed since you read it; read it again and retry.")
