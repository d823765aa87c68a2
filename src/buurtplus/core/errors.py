"""Base domain errors. They say what went wrong, never which HTTP status that is."""


class DomainError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does."""


class PermissionDenied(DomainError):
    """The actor may see the object but not do this to it."""


class Conflict(DomainError):
    """The change clashes with the current state of the data."""


class InvalidInput(DomainError):
    """A value is well-formed but not acceptable; `field` names it."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        super().__init__("cursor", "The cursor is not one this list handed out.")


class InvalidCredentials(DomainError):
    """Wrong e-mail address or password (never said which)."""


class TooManyAttempts(DomainError):
    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class PreconditionFailed(DomainError):
    """The client acted on a copy that is no longer current."""


class NotSupported(DomainError):
    """The configuration in force (a plugin, a setting) cannot do this."""
