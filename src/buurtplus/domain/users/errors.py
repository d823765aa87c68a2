from buurtplus.core.errors import Conflict, NotFound


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such user.")


class EmailTaken(Conflict):
    def __init__(self, email: str) -> None:
        super().__init__(f"An account with e-mail address {email} exists already.")


class SelfLockout(Conflict):
    def __init__(self) -> None:
        super().__init__("You cannot deactivate your own account or take away your own admin role.")
