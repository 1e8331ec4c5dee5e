"""Domain errors raised by services.

A service checks each precondition once and raises one of these with a reason a
person can read. The API turns them into 400 (403 for ``NotPermitted``, 409 for
``Conflict``) with that reason, the portal into a form error, the admin into a message.
"""


class DomainError(Exception):
    """A request the domain refuses; ``message`` says why."""

    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, field: str | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotPermitted(DomainError):
    """The acting user may not do this (e.g. a service account confirming severity)."""

    code = "not_permitted"


class InvalidTransition(DomainError):
    """The lifecycle does not allow this status change now."""

    code = "invalid_transition"


class Conflict(DomainError):
    """Someone else got there first (a first-one-wins action: taking command,
    approving); ``holder`` names who, when there is one."""

    code = "conflict"

    def __init__(self, message: str, *, holder: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.holder = holder
