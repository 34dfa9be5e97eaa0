"""Typed errors of the lowrouter client; each carries a message a person can read."""

from __future__ import annotations


class ApiError(Exception):
    """Any failure talking to the platform."""

    status: int | None = None
    code: str = "error"
    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidBaseUrl(ApiError):
    """The configured base URL is unusable (e.g. plain http to a non-loopback host)."""

    code = "invalid_base_url"


class NetworkError(ApiError):
    """The platform could not be reached or the connection dropped."""

    code = "network"
    transient = True


class TimeoutError_(NetworkError):
    """The platform did not answer in time."""

    code = "timeout"


class DeadlineExceeded(ApiError):
    """The platform answered too slowly to finish within the request's deadline. Not offline,
    and not asked again: a platform that needed minutes for one answer needs them again."""

    code = "deadline"


class TlsError(ApiError):
    """The platform's TLS certificate could not be verified (verification is never turned off)."""

    code = "tls"


class MalformedResponse(ApiError):
    """The platform answered something that does not follow the contract."""

    code = "malformed_response"


class ResponseTooLarge(MalformedResponse):
    """The answer is larger than any the contract allows; it was not read to its end."""

    code = "response_too_large"


class UnreadableBody(MalformedResponse):
    """The answer is not JSON at all (e.g. cut short): worth asking again, GETs are safe."""

    code = "unreadable_body"
    transient = True


class HttpError(ApiError):
    """A non-2xx answer with the platform's `error.code` and `error.message`."""


class AuthError(HttpError):
    status = 401
    code = "invalid_key"


class ScopeError(HttpError):
    status = 403
    code = "insufficient_scope"


class NotFound(HttpError):
    status = 404
    code = "not_found"


class Conflict(HttpError):
    status = 409
    code = "conflict"


class InvalidRequest(HttpError):
    status = 422
    code = "invalid_request"


class RateLimited(HttpError):
    status = 429
    code = "rate_limited"
    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after
        # when the platform asked to be asked again (epoch seconds), for the next sync's start
        self.retry_at: float | None = None


class ServerError(HttpError):
    code = "server_error"
    transient = True


class Cancelled(ApiError):
    """The caller asked to stop."""

    code = "cancelled"


_BY_STATUS: dict[int, type[HttpError]] = {
    401: AuthError,
    403: ScopeError,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
    429: RateLimited,
}


def error_class_for(status: int) -> type[HttpError]:
    """The error type for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, HttpError)
