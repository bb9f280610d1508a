"""The web UI's error responses, as one exception type the HTTP layer turns into JSON."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "http_error"]


class ApiError(Exception):
    """An error answered with the web UI's wrapper ``{"error", "detail", "body", "errors"}``.

    ``error`` is the exception class name the real server would report (``HTTPException``,
    ``RuntimeError``, ``OutOfMemoryError``...); ``errors`` is that exception's ``str()``, which
    is empty for an ``HTTPException``.
    """

    def __init__(self, status: int, error: str, *, detail: str = "", errors: str = "") -> None:
        super().__init__(f"{status} {error}: {detail or errors}")
        self.status = status
        self.error = error
        self.detail = detail
        self.errors = errors

    def payload(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail, "body": "", "errors": self.errors}


def http_error(status: int, detail: str) -> ApiError:
    """What FastAPI's ``HTTPException(status_code=status, detail=detail)`` becomes."""
    return ApiError(status, "HTTPException", detail=detail)
