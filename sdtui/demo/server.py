"""The demo backend's HTTP server: AUTOMATIC1111's ``--api`` routes on loopback, stdlib only.

Wire behaviour copies the real server (FastAPI + uvicorn behind the web UI's middleware):
JSON bodies with compact separators, ``X-Process-Time`` on every response, gzip above 1000
bytes when the client accepts it, 404/405 as ``{"detail": ...}``, 422 validation errors in
pydantic v1's shape, the web UI's error wrapper for everything else, and HTTP Basic auth on
``/sdapi/v1`` when ``api_auth`` is set. Each connection gets a thread (keep-alive works), so
progress, interrupt and options answer while a generation holds the FIFO job queue.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hmac
import json
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sdtui.demo import catalog
from sdtui.demo.codec import png_info
from sdtui.demo.engine import Engine
from sdtui.demo.errors import ApiError, http_error
from sdtui.demo.schema import (
    IMG2IMG_FIELDS,
    INTERNAL_PROGRESS_FIELDS,
    PNG_INFO_FIELDS,
    PROGRESS_QUERY_FIELDS,
    TXT2IMG_FIELDS,
)
from sdtui.demo.state import ServerStopping
from sdtui.demo.validation import (
    MISSING,
    BodyParseError,
    ValidationFailed,
    parse_json_body,
    validate_model,
)

__all__ = ["DemoServer"]

_GZIP_MINIMUM = 1000
_API_PREFIX = "/sdapi/v1/"


@dataclass(frozen=True)
class _Call:
    """One request as a route handler sees it."""

    query: dict[str, str]
    body: Any  # decoded JSON, MISSING, or raw bytes for a non-JSON content type


@dataclass(frozen=True)
class _Route:
    handler: Callable[[_Call], Any]
    body: bool = False  # declares a body parameter: parsed (and its JSON checked) before auth


@dataclass
class _Reply:
    status: int
    payload: Any
    headers: dict[str, str]


def _parse_credentials(api_auth: str | None) -> dict[str, str]:
    """``--api-auth user:pass[,user2:pass2]`` as a user -> password map."""
    credentials: dict[str, str] = {}
    if not api_auth:
        return credentials
    for entry in api_auth.split(","):
        user, sep, password = entry.strip().partition(":")
        if not sep or not user:
            raise ValueError(f"api_auth entries must be user:password, got {entry!r}")
        credentials[user] = password
    return credentials


class _Api:
    """Routes, auth and error mapping: everything between a parsed request and its reply."""

    def __init__(self, engine: Engine, credentials: dict[str, str], flags: dict[str, Any]) -> None:
        self.engine = engine
        self.credentials = credentials
        self.flags = flags
        api = _API_PREFIX
        self.routes: dict[str, dict[str, _Route]] = {
            f"{api}txt2img": {"POST": _Route(self._txt2img, body=True)},
            f"{api}img2img": {"POST": _Route(self._img2img, body=True)},
            f"{api}progress": {"GET": _Route(self._progress)},
            f"{api}interrupt": {"POST": _Route(self._interrupt)},
            f"{api}skip": {"POST": _Route(self._skip)},
            f"{api}options": {
                "GET": _Route(lambda _: engine.options.snapshot()),
                "POST": _Route(self._set_options, body=True),
            },
            f"{api}cmd-flags": {"GET": _Route(lambda _: dict(self.flags))},
            f"{api}samplers": {"GET": _Route(lambda _: [s.as_api() for s in catalog.SAMPLERS])},
            f"{api}schedulers": {"GET": _Route(lambda _: [s.as_api() for s in catalog.SCHEDULERS])},
            f"{api}upscalers": {"GET": _Route(lambda _: [dict(u) for u in catalog.UPSCALERS])},
            f"{api}latent-upscale-modes": {
                "GET": _Route(lambda _: [{"name": n} for n in catalog.LATENT_UPSCALE_MODES])
            },
            f"{api}sd-models": {"GET": _Route(lambda _: [m.as_api() for m in catalog.MODELS])},
            f"{api}sd-vae": {"GET": _Route(lambda _: [dict(v) for v in catalog.VAES])},
            f"{api}hypernetworks": {"GET": _Route(lambda _: [])},
            f"{api}face-restorers": {
                "GET": _Route(
                    lambda _: [
                        {
                            "name": "CodeFormer",
                            "cmd_dir": "/opt/stable-diffusion-webui/models/Codeformer",
                        },
                        {"name": "GFPGAN", "cmd_dir": None},
                    ]
                )
            },
            f"{api}realesrgan-models": {
                "GET": _Route(
                    lambda _: [
                        {"name": u["name"], "path": u["model_path"], "scale": u["scale"]}
                        for u in catalog.UPSCALERS
                        if u["model_name"] == "RealESRGAN"
                    ]
                )
            },
            f"{api}prompt-styles": {
                "GET": _Route(lambda _: [s.as_api() for s in catalog.PROMPT_STYLES])
            },
            f"{api}embeddings": {
                "GET": _Route(lambda _: json.loads(json.dumps(catalog.EMBEDDINGS)))
            },
            f"{api}loras": {"GET": _Route(lambda _: json.loads(json.dumps(catalog.LORAS)))},
            f"{api}scripts": {"GET": _Route(lambda _: self._scripts())},
            f"{api}extensions": {"GET": _Route(lambda _: [])},
            f"{api}memory": {"GET": _Route(lambda _: self._memory())},
            f"{api}png-info": {"POST": _Route(self._png_info, body=True)},
            f"{api}extra-single-image": {
                "POST": _Route(lambda call: engine.extras.single(call.body), body=True)
            },
            f"{api}extra-batch-images": {
                "POST": _Route(lambda call: engine.extras.batch(call.body), body=True)
            },
            f"{api}refresh-checkpoints": {"POST": _Route(self._refresh_checkpoints)},
            f"{api}refresh-vae": {"POST": _Route(lambda _: None)},
            f"{api}refresh-loras": {"POST": _Route(lambda _: None)},
            "/internal/progress": {"POST": _Route(self._internal_progress, body=True)},
        }
        if flags.get("nowebui"):
            # The web page's routes (/internal/...) exist only beside the web page.
            del self.routes["/internal/progress"]

    # --- dispatch -----------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: Message, raw_body: bytes
    ) -> _Reply:
        """Route one request; never raises."""
        try:
            return self._handle(method, path, query, headers, raw_body)
        except ValidationFailed as exc:
            return _Reply(422, {"detail": exc.errors}, {})
        except BodyParseError:
            error = http_error(400, "There was an error parsing the body")
            return _Reply(error.status, error.payload(), {})
        except ApiError as exc:
            return _Reply(exc.status, exc.payload(), {})
        except ServerStopping:
            error = ApiError(503, "ServerStopping", errors="the demo server is shutting down")
            return _Reply(error.status, error.payload(), {"Connection": "close"})
        except Exception as exc:  # the web UI's catch-all middleware: never crash, answer 500
            error = ApiError(500, type(exc).__name__, errors=str(exc))
            return _Reply(500, error.payload(), {})

    def _handle(
        self, method: str, path: str, query: dict[str, str], headers: Message, raw_body: bytes
    ) -> _Reply:
        methods = self.routes.get(path)
        if methods is None:
            if path.endswith("/") and path.rstrip("/") in self.routes:
                location = path.rstrip("/")
                return _Reply(307, None, {"Location": location})
            return _Reply(404, {"detail": "Not Found"}, {})
        lookup = "GET" if method == "HEAD" else method
        route = methods.get(lookup)
        if route is None:
            allowed = ", ".join(sorted({*methods, *(["HEAD"] if "GET" in methods else [])}))
            return _Reply(405, {"detail": "Method Not Allowed"}, {"Allow": allowed})
        body: Any = MISSING
        if route.body:
            body = parse_json_body(raw_body, headers.get("Content-Type"))
        if path.startswith(_API_PREFIX):
            self._check_auth(headers.get("Authorization"))
        return _Reply(200, route.handler(_Call(query, body)), {})

    def _check_auth(self, authorization: str | None) -> None:
        """FastAPI's ``HTTPBasic`` plus the web UI's credential check, without WWW-Authenticate."""
        if not self.credentials:
            return
        scheme, _, param = (authorization or "").partition(" ")
        if not authorization or scheme.lower() != "basic":
            raise http_error(401, "Not authenticated")
        try:
            decoded = base64.b64decode(param).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise http_error(401, "Invalid authentication credentials") from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise http_error(401, "Invalid authentication credentials")
        expected = self.credentials.get(user)
        if expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
            raise http_error(401, "Incorrect username or password")

    # --- handlers -----------------------------------------------------------------------------

    def _txt2img(self, call: _Call) -> Any:
        values, sent = validate_model(call.body, TXT2IMG_FIELDS)
        return self.engine.generate("txt2img", values, sent)

    def _img2img(self, call: _Call) -> Any:
        values, sent = validate_model(call.body, IMG2IMG_FIELDS)
        return self.engine.generate("img2img", values, sent)

    def _progress(self, call: _Call) -> Any:
        values, _ = validate_model(call.query, PROGRESS_QUERY_FIELDS, where="query")
        return self.engine.progress(bool(values["skip_current_image"]))

    def _internal_progress(self, call: _Call) -> Any:
        values, _ = validate_model(call.body, INTERNAL_PROGRESS_FIELDS)
        return self.engine.internal_progress(
            values["id_task"], values["id_live_preview"], bool(values["live_preview"])
        )

    def _interrupt(self, _: _Call) -> Any:
        self.engine.state.interrupt()
        return {}

    def _skip(self, _: _Call) -> Any:
        self.engine.state.skip()
        return None

    def _set_options(self, call: _Call) -> Any:
        if call.body is MISSING or call.body is None:
            raise ValidationFailed(
                [{"loc": ["body"], "msg": "field required", "type": "value_error.missing"}]
            )
        request = call.body
        if not isinstance(request, dict):
            try:
                if isinstance(request, str | bytes):
                    raise TypeError
                request = dict(request)
            except (TypeError, ValueError):
                raise ValidationFailed(
                    [
                        {
                            "loc": ["body"],
                            "msg": "value is not a valid dict",
                            "type": "type_error.dict",
                        }
                    ]
                ) from None
        self.engine.set_options(request)
        return None

    def _png_info(self, call: _Call) -> Any:
        values, _ = validate_model(call.body, PNG_INFO_FIELDS)
        return png_info(values["image"])

    def _refresh_checkpoints(self, _: _Call) -> Any:
        self.engine.refresh_checkpoints()
        return None

    def _scripts(self) -> dict[str, list[str]]:
        def names(mode: str) -> list[str]:
            titles = [*catalog.SELECTABLE_SCRIPTS[mode], *catalog.ALWAYSON_SCRIPTS]
            return [t.lower() for t in titles]

        return {"txt2img": names("txt2img"), "img2img": names("img2img")}

    def _memory(self) -> dict[str, Any]:
        gib = 2**30
        busy = self.engine.state.snapshot()["state"]["job_count"] != 0
        used = int((5.6 if busy else 2.4) * gib)
        total = int(23.99 * gib)
        allocated = int((3.3 if busy else 2.1) * gib)
        return {
            "ram": {"free": 22.7 * gib, "used": 8.9 * gib, "total": 31.6 * gib},
            "cuda": {
                "system": {"free": total - used, "used": used, "total": total},
                "active": {"current": allocated, "peak": int(6.2 * gib)},
                "allocated": {"current": allocated, "peak": int(6.2 * gib)},
                "reserved": {"current": int(allocated * 1.12), "peak": int(7.0 * gib)},
                "inactive": {"current": int(0.15 * gib), "peak": int(0.9 * gib)},
                "events": {"retries": 0, "oom": self.engine.oom_events},
            },
        }


def client_went_away(error: BaseException | None) -> bool:
    """Whether a handler failed because its client closed the connection (a handler may fail
    again while answering the broken link: the first error is then its context)."""
    while error is not None:
        if isinstance(error, ConnectionError):
            return True
        error = error.__context__
    return False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: _Api) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._busy = threading.Condition()
        self._requests_in_flight = 0
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (it was cancelled or closed) is not the server's
        error, as the web UI's server does not print one either; anything else is printed."""
        if not client_went_away(sys.exc_info()[1]):
            super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a bad resolver.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    def request_started(self) -> None:
        with self._busy:
            self._requests_in_flight += 1

    def request_finished(self) -> None:
        with self._busy:
            self._requests_in_flight -= 1
            self._busy.notify_all()

    def wait_for_requests(self, timeout: float) -> None:
        """Let requests being answered finish writing (an interrupted job's partial images)."""
        with self._busy:
            self._busy.wait_for(lambda: self._requests_in_flight == 0, timeout)

    def close_connections(self) -> None:
        """End idle keep-alive connections so their threads exit with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "uvicorn"
    sys_version = ""
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every small response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet, like the web UI without ``--api-log``."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise _BadRequest from None
        if length < 0:
            raise _BadRequest
        data = self.rfile.read(length)
        if len(data) != length:
            raise _BadRequest
        return data

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise _BadRequest
            parts.append(chunk)
            self.rfile.readline(3)

    def _dispatch(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except _BadRequest:
            self.close_connection = True
            self._send(_Reply(400, {"detail": "Bad Request"}, {"Connection": "close"}), started)
            return
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        self.server.request_started()
        try:
            reply = self.server.api.handle(self.command, split.path, query, self.headers, body)
            self._send(reply, started)
        finally:
            self.server.request_finished()

    def _send(self, reply: _Reply, started: float) -> None:
        headers = dict(reply.headers)
        if reply.status == 307:
            data = b""
        else:
            try:
                data = json.dumps(
                    reply.payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")
                ).encode("utf-8")
            except (ValueError, TypeError) as exc:
                error = ApiError(500, type(exc).__name__, errors=str(exc))
                reply = _Reply(500, error.payload(), {})
                data = json.dumps(error.payload(), separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        accepts = self.headers.get("Accept-Encoding", "").lower()
        if len(data) >= _GZIP_MINIMUM and "gzip" in accepts:
            data = gzip.compress(data, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        headers["Content-Length"] = str(len(data))
        duration = time.perf_counter() - started
        headers["X-Process-Time"] = str(round(duration, 4))
        if headers.get("Connection") == "close":
            self.close_connection = True
        try:
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the client went away; nothing left to tell it
            self.close_connection = True


class DemoServer:
    """An AUTOMATIC1111-compatible API server with synthetic images, for demos and tests.

    ``port=0`` picks a free port (read it from :attr:`url` after :meth:`start`). ``step_delay``
    is the time one sampling step takes. ``api_auth`` ("user:pass[,user2:pass2]") turns on
    HTTP Basic auth for ``/sdapi/v1``, as the web UI's ``--api-auth`` does. ``nowebui`` serves
    the API alone, as ``--nowebui`` does: no ``/internal/progress`` (like SD.Next and the
    servers that copy only ``/sdapi/v1``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        step_delay: float = 0.05,
        api_auth: str | None = None,
        nowebui: bool = False,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.engine = Engine(step_delay)
        credentials = _parse_credentials(api_auth)
        flags = self._cmd_flags(api_auth)
        flags["nowebui"] = nowebui
        self._api = _Api(self.engine, credentials, flags)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def _cmd_flags(self, api_auth: str | None) -> dict[str, Any]:
        # Like the real server, cmd-flags shows --api-auth in clear text.
        return {
            "api": True,
            "api_auth": api_auth,
            "api_log": False,
            "nowebui": False,
            "listen": self.host in ("0.0.0.0", "::", ""),
            "port": self._requested_port or None,
            "server_name": None,
            "gradio_auth": None,
            "share": False,
            "ngrok": None,
            "data_dir": "/opt/stable-diffusion-webui",
            "models_dir": None,
            "ckpt_dir": None,
            "vae_dir": None,
            "lora_dir": "/opt/stable-diffusion-webui/models/Lora",
            "embeddings_dir": "/opt/stable-diffusion-webui/embeddings",
            "medvram": False,
            "lowvram": False,
            "xformers": False,
            "opt_sdp_attention": False,
            "no_half": False,
            "no_half_vae": False,
            "precision": "autocast",
            "skip_torch_cuda_test": False,
            "disable_safe_unpickle": False,
            "freeze_settings": False,
            "hide_ui_dir_config": False,
            "enable_insecure_extension_access": False,
            "api_server_stop": False,
            "timeout_keep_alive": 30,
            "cors_allow_origins": None,
            "subpath": None,
            "skip_version_check": False,
            "device_id": None,
        }

    def _bind(self) -> _HTTPServer:
        with self._lock:
            if self._stopped:
                raise RuntimeError("this DemoServer was stopped; create a new one")
            if self._httpd is None:
                self._httpd = _HTTPServer((self.host, self._requested_port), self._api)
            return self._httpd

    def _run_loop(self, httpd: _HTTPServer, poll_interval: float) -> None:
        try:
            httpd.serve_forever(poll_interval=poll_interval)
        finally:
            self._loop_thread = None

    def start(self) -> DemoServer:
        """Bind and serve in a daemon thread; returns self."""
        httpd = self._bind()
        with self._lock:
            if self._thread is None:
                # A short poll keeps stop() quick; one wakeup per 10 ms costs next to nothing.
                self._thread = threading.Thread(
                    target=self._run_loop, args=(httpd, 0.01), name="sdtui-demo-server", daemon=True
                )
                self._loop_thread = self._thread
                self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind (if not yet) and serve in this thread until Ctrl-C or :meth:`stop`."""
        httpd = self._bind()
        self._loop_thread = threading.current_thread()
        try:
            self._run_loop(httpd, 0.25)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Interrupt any job, stop serving, close the socket and idle connections."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            httpd, thread = self._httpd, self._thread
        self.engine.close()
        if httpd is None:
            return
        loop = self._loop_thread
        if loop is not None and loop is not threading.current_thread():
            httpd.shutdown()
        httpd.server_close()
        httpd.wait_for_requests(timeout=2.0)
        httpd.close_connections()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def kill(self) -> None:
        """Die as a killed or crashed server does: every open connection is cut at once, a
        running job's included (its client sees the connection break, not an answer), then
        nothing listens. `stop` instead lets a running job answer with what it has so far."""
        with self._lock:
            httpd = None if self._stopped else self._httpd
        if httpd is not None:
            httpd.close_connections()
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is not None:
            return int(self._httpd.server_address[1])
        if self._requested_port:
            return self._requested_port
        raise RuntimeError("the port is chosen when the server starts; call start() first")

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:7860`` (a wildcard host is shown as loopback)."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
