"""HTTP errors in OpenAI's JSON shape: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from typing import Any

#: ``type`` of each status, as OpenAI's API names them.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}
#: Seconds a client told "queue full" (429) or "not ready" (503) should wait before retrying.
RETRY_AFTER_S = 1


class ApiError(Exception):
    """A request the server answers with an error status.

    Parameters
    ----------
    status
        HTTP status.
    message
        What is wrong and how to fix it (never a traceback).
    param
        The request field at fault, e.g. ``messages[0].content[1].input_ecg``.
    code
        Short machine-readable reason (``queue_full``, ``model_not_found``).
    """

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    @property
    def type(self) -> str:
        """OpenAI's error ``type`` for the status."""
        fallback = "server_error" if self.status >= 500 else "invalid_request_error"
        return ERROR_TYPES.get(self.status, fallback)

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def headers(self) -> dict[str, str]:
        """Extra response headers (``Retry-After`` on 429/503)."""
        return {"Retry-After": str(RETRY_AFTER_S)} if self.status in (429, 503) else {}


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    """HTTP 400, ``invalid_request_error``."""
    return ApiError(400, message, param=param, code=code)
