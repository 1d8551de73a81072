"""The hub's errors: each carries the HTTP status the API answers it with."""

from __future__ import annotations

from knowflow.errors import KnowflowError


class HubError(KnowflowError):
    """A request the hub refuses; ``status`` is its HTTP status code."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class Unauthorized(HubError):
    """No token, or one that is wrong or revoked."""

    status = 401


class Forbidden(HubError):
    """A member acting where they may not: an audience they are not in, another's name."""

    status = 403


class NotFound(HubError):
    """An audience or member the hub does not have."""

    status = 404


class Conflict(HubError):
    """A state the request assumed that the hub does not hold (a name taken, a hash
    for a note the hub lacks)."""

    status = 409


class TooLarge(HubError):
    """A request body over the hub's limit."""

    status = 413


class Invalid(HubError):
    """A body that is JSON but not a bundle this hub reads."""

    status = 422
