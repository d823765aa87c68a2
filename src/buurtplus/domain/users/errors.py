from buurtplus.core.errors import Conflict, NotFound, PreconditionFailed


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such user.")


class EmailTaken(Conflict):
    def __init__(self, email: str) -> None:
        super().__init__(f"An account with e-mail address {email} exists already.")


class SelfLockout(Conflict):
    def __init__(self) -> None:
        super().__init__("You cannot deactivate your own account or take away your own admin role.")


class StaleUser(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The account changed since you read it; read it again and retry.")
