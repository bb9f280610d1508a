"""A purpose-built misbehaving server for tests: each route answers what the test scripts.

Runs a stdlib HTTP server on a free loopback port in a thread. A route maps (method, path) to a
`Reply` or to a callable taking the parsed request and returning one. Unknown routes answer like
FastAPI: 404 {"detail": "Not Found"}.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sdtui.demo.server import client_went_away


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None  # send only this many body bytes, then close the connection
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[Seen], Reply]


def json_reply(data: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(data))


class _QuietServer(ThreadingHTTPServer):
    """A delayed reply whose client has gone (a test killed it) must not print a traceback
    seconds later, into whichever test runs then and reads its own stderr."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not client_went_away(sys.exc_info()[1]):
            super().handle_error(request, client_address)


class FaultyServer:
    def __init__(self, routes: dict[tuple[str, str], Reply | Handler] | None = None) -> None:
        self.routes: dict[tuple[str, str], Reply | Handler] = dict(routes or {})
        self.seen: list[Seen] = []
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parts.query, dict(self.headers), body)
                server.seen.append(seen)
                route = server.routes.get((self.command, parts.path))
                if route is None:
                    reply = json_reply({"detail": "Not Found"}, 404)
                elif callable(route):
                    reply = route(seen)
                else:
                    reply = route
                if reply.delay:
                    threading.Event().wait(reply.delay)
                payload = reply.body
                if not isinstance(payload, bytes | str):
                    payload = json.dumps(payload)
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if reply.drop_after is not None:
                    self.wfile.write(data[: reply.drop_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self._httpd = _QuietServer(("127.0.0.1", 0), RequestHandler)
        self._httpd.daemon_threads = True
        # A short poll interval: shutting down waits for one poll, and tests start many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        port = self._httpd.server_address[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> FaultyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
