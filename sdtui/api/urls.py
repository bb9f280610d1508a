"""Server URLs: credentials split off, so the URL can be shown and logged safely."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

API = "/sdapi/v1"
PROGRESS = f"{API}/progress"
TASK_PROGRESS = "/internal/progress"  # web UI mode only: one task's progress (force_task_id)


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """`http://user:pass@host:7860/prefix` → (`http://host:7860/prefix`, user, pass).

    A bare `host:port` gets `http://`. The returned URL never carries the password, so it is safe to
    show and log.
    """
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, netloc, path, "", "")), user, password
