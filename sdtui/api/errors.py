"""One error type for everything that can go wrong talking to a server.

Each `ApiError` carries a `kind` (what happened, for code to branch on) and a one-line `message`
written for the user: what happened and what to do. Server text inside a message is stripped of
control characters, so printing it can never drive the terminal.
"""

from __future__ import annotations

import enum
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is imported by the client; the TUI paints before loading it
    import httpx

from sdtui.text import one_line

START_HINT = "start the web UI with --api, pass --url, or try --demo"


class ErrorKind(enum.Enum):
    UNREACHABLE = "unreachable"  # nothing listening, DNS failure, connect timeout
    API_DISABLED = "api-disabled"  # 404 on /sdapi: the web UI runs without --api
    NOT_FOUND = (
        "not-found"  # a single endpoint is missing (404, 405, 501: older or compatible servers)
    )
    AUTH_MISSING = "auth-missing"
    AUTH_WRONG = "auth-wrong"
    VALIDATION = "validation"  # 422
    SERVER = "server"  # the server's own error (CUDA out of memory, ...)
    BUSY = "busy"  # 503
    NOT_API = "not-api"  # an answer that is not the API's JSON
    DROPPED = "dropped"  # the connection broke mid-request
    TIMEOUT = "timeout"


class ApiError(Exception):
    """A failed API call, with a message fit to show the user as it is."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        endpoint: str = "",
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = one_line(message, 400)
        self.status = status
        self.endpoint = endpoint
        self.detail = one_line(detail, 2000)

    def __str__(self) -> str:
        return self.message

    @property
    def retryable(self) -> bool:
        return self.kind in {
            ErrorKind.UNREACHABLE,
            ErrorKind.BUSY,
            ErrorKind.DROPPED,
            ErrorKind.TIMEOUT,
        }


def is_unsupported(exc: ApiError) -> bool:
    """The server has no such endpoint (404, 405 or 501, or no API at all): asking again will not
    help, so callers fall back to another endpoint or stop asking, once."""
    return exc.kind in (ErrorKind.NOT_FOUND, ErrorKind.API_DISABLED)


def transport_error(exc: httpx.TransportError, server: str, endpoint: str) -> ApiError:
    """Map httpx's transport failures to a message naming the server and the fix."""
    import httpx

    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return ApiError(
            ErrorKind.UNREACHABLE,
            f"Cannot reach {server}: connecting timed out; check the address and any SSH tunnel",
            endpoint=endpoint,
        )
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if any(
            s in lowered
            for s in (
                "name or service not known",
                "nodename nor servname",
                "getaddrinfo",
                "name resolution",
                "no address associated",
            )
        ):
            return ApiError(
                ErrorKind.UNREACHABLE,
                f"Cannot reach {server}: the host name does not resolve; check --url",
                endpoint=endpoint,
            )
        reason = one_line(text, 80)
        if "attempts failed" in lowered or "refused" in lowered:
            reason = "nothing answers there"  # httpx says "All connection attempts failed"
        return ApiError(
            ErrorKind.UNREACHABLE,
            f"Cannot reach {server} ({reason}): {START_HINT}",
            endpoint=endpoint,
        )
    if isinstance(exc, httpx.TimeoutException):
        return ApiError(
            ErrorKind.TIMEOUT,
            f"{server} stopped answering ({endpoint}): it may be overloaded; try again",
            endpoint=endpoint,
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return ApiError(
            ErrorKind.DROPPED,
            f"The connection to {server} broke during {endpoint} (did the server stop or restart?); "
            "nothing was lost on this side: try again",
            endpoint=endpoint,
        )
    return ApiError(ErrorKind.UNREACHABLE, f"Cannot talk to {server}: {text}", endpoint=endpoint)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _validation_message(detail: Any) -> str | None:
    """FastAPI/pydantic 422 items (v1 and v2 shapes) → "steps: value is not a valid integer"."""
    if not isinstance(detail, list):
        return None
    parts = []
    for item in detail:
        if not isinstance(item, dict):
            continue
        loc = [str(p) for p in item.get("loc", []) if p != "body"]
        field = ".".join(loc) or "request"
        parts.append(f"{field}: {_as_text(item.get('msg', 'invalid'))}")
    return "; ".join(parts) or None


def http_error(response: httpx.Response, server: str, endpoint: str) -> ApiError:
    """Turn a non-2xx answer into an ApiError, understanding A1111, Forge, SD.Next, KoboldCpp and
    stable-diffusion.cpp error bodies."""
    status = response.status_code
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    detail: Any = body.get("detail") if isinstance(body, dict) else None

    if status == 401:
        text = _as_text(detail).lower()
        if "incorrect" in text or "wrong" in text or "invalid" in text:
            return ApiError(
                ErrorKind.AUTH_WRONG,
                f"{server} refused the user name or password: check --user/--password "
                "(or SDTUI_USER/SDTUI_PASSWORD)",
                status=status,
                endpoint=endpoint,
            )
        return ApiError(
            ErrorKind.AUTH_MISSING,
            f"{server} needs a user name and password (it runs with --api-auth): pass "
            "--user/--password or set SDTUI_USER/SDTUI_PASSWORD",
            status=status,
            endpoint=endpoint,
        )
    if status == 404 and (detail == "Not Found" or body is None):
        if endpoint.startswith("/sdapi/") and endpoint.split("?")[0] in {
            "/sdapi/v1/options",
            "/sdapi/v1/sd-models",
            "/sdapi/v1/txt2img",
            "/sdapi/v1/img2img",
        }:
            return ApiError(
                ErrorKind.API_DISABLED,
                f"{server} has no API at {endpoint}: start the web UI with --api "
                "(and check --url, including any path prefix)",
                status=status,
                endpoint=endpoint,
            )
        return ApiError(
            ErrorKind.NOT_FOUND,
            f"{server} does not offer {endpoint}",
            status=status,
            endpoint=endpoint,
        )
    if status in (405, 501):
        # "Method Not Allowed" / "Not Implemented": a compatible server (SD.Next, Forge variants,
        # a proxy in front) that routes the path but does not offer it.
        reason = response.reason_phrase or (
            "Method Not Allowed" if status == 405 else "Not Implemented"
        )
        return ApiError(
            ErrorKind.NOT_FOUND,
            f"{server} does not offer {endpoint} ({status} {reason})",
            status=status,
            endpoint=endpoint,
            detail=_as_text(detail),
        )
    if status == 422:
        message = _validation_message(detail)
        if message is None:
            message = _as_text(detail) or _as_text(body)
        return ApiError(
            ErrorKind.VALIDATION,
            f"The server rejected the request: {message}",
            status=status,
            endpoint=endpoint,
            detail=message,
        )
    if status == 503:
        reason = ""
        if isinstance(detail, dict):
            reason = _as_text(detail.get("msg") or detail.get("message"))
        elif detail:
            reason = _as_text(detail)
        suffix = f" ({reason})" if reason else ""
        return ApiError(
            ErrorKind.BUSY,
            f"{server} is busy{suffix}: retry in a moment",
            status=status,
            endpoint=endpoint,
        )
    if isinstance(body, dict):
        # A1111 wrapper {error, detail, body, errors}; Forge {detail} or {error, detail, body, message};
        # SD.Next adds code; sd.cpp {"error": "...", "message": "..."}.
        error_class = _as_text(body.get("error"))
        texts = [
            _as_text(body.get(k))
            for k in ("errors", "detail", "message")
            if body.get(k) not in (None, "", [])
        ]
        message = next((t for t in texts if t), "")
        if not message and error_class:
            message, error_class = error_class, ""
        if message:
            prefix = f"{error_class}: " if error_class and error_class not in message else ""
            return ApiError(
                ErrorKind.SERVER if status >= 500 else ErrorKind.VALIDATION,
                f"The server failed ({status}): {prefix}{message}",
                status=status,
                endpoint=endpoint,
                detail=message,
            )
    if body is None and status < 500:
        return not_api_error(response, server, endpoint)
    reason = response.reason_phrase or "error"
    return ApiError(
        ErrorKind.SERVER,
        f"The server failed ({status} {reason}) on {endpoint}",
        status=status,
        endpoint=endpoint,
    )


def not_api_error(response: httpx.Response, server: str, endpoint: str) -> ApiError:
    kind_of_body = response.headers.get("content-type", "").split(";")[0] or "no content type"
    return ApiError(
        ErrorKind.NOT_API,
        f"{server} does not look like the Stable Diffusion web UI API (got {kind_of_body} "
        f"with status {response.status_code} from {endpoint}): check --url, its port and any "
        "proxy login",
        status=response.status_code,
        endpoint=endpoint,
    )
