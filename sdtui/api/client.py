"""The async HTTP client for the web UI API (and the servers that copy it).

Timeouts are per call: quick calls give up after `quick_timeout`; generation and model switching
have no read timeout at all (a job may run for many minutes) while connecting still fails fast.
Large answers are parsed in a thread so the caller's event loop never stalls on JSON or base64.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from sdtui.api.errors import (
    ApiError,
    ErrorKind,
    http_error,
    is_unsupported,
    not_api_error,
    transport_error,
)
from sdtui.api.types import (
    BadImageData,
    Embedding,
    ExtrasRequest,
    ExtrasResult,
    GenerationRequest,
    GenerationResult,
    Img2ImgRequest,
    Lora,
    PngInfo,
    ProgressUpdate,
    PromptStyle,
    ResponseShapeError,
    Sampler,
    Scheduler,
    SdModel,
    SdVae,
    TaskProgress,
    Upscaler,
    parse_embeddings,
    parse_latent_upscale_modes,
    parse_loras,
    parse_models,
    parse_samplers,
    parse_schedulers,
    parse_styles,
    parse_upscalers,
    parse_vaes,
)
from sdtui.api.urls import API, PROGRESS, TASK_PROGRESS, split_credentials

_Progress = TypeVar("_Progress", ProgressUpdate, TaskProgress)
_Parsed = TypeVar("_Parsed", GenerationResult, ExtrasResult)


def _remember_sniffio_is_missing() -> None:
    """Make ``import sniffio`` fail at once where it is not installed.

    httpcore tries ``import sniffio`` (to tell trio from asyncio) several times per request.
    Python does not remember failed imports, so without sniffio each try searches sys.path
    on disk again: tens of microseconds of stat calls on the event loop per try, and each
    call lets a busy worker thread take the GIL. A None entry in sys.modules is Python's own
    way of saying "this module is not available": the import raises ImportError, as it
    would have, without touching the disk.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_remember_sniffio_is_missing()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


CONNECT_TIMEOUT = 5.0
# Above this size a JSON answer is decoded in a worker thread instead of on the event loop.
THREAD_PARSE_BYTES = 64 * 1024


def _encode_json(body: Any) -> bytes:
    """The JSON bytes httpx's `json=` would send."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class SDClient:
    """One server. Use as `async with SDClient(url) as client:` or call `aclose()`."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        quick_timeout: float = 30.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base, url_user, url_password = split_credentials(url)
        self.base_url = base
        user = user if user is not None else url_user
        password = password if password is not None else url_password
        auth = httpx.BasicAuth(user, password or "") if user is not None else None
        self._connect_timeout = connect_timeout
        self._quick = httpx.Timeout(quick_timeout, connect=connect_timeout)
        self._long = httpx.Timeout(None, connect=connect_timeout)
        self._http = httpx.AsyncClient(
            base_url=base,
            auth=auth,
            timeout=self._quick,
            transport=transport,
            headers={"Accept-Encoding": "gzip", "User-Agent": "sdtui"},
            follow_redirects=True,
        )
        # Progress endpoints this server answered 404/405/501 for (never asked again), and those
        # it answered.
        self.missing: set[str] = set()
        self.offered: set[str] = set()
        self._api_answered = False

    async def __aenter__(self) -> SDClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing -------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        endpoint: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        headers = None if content is None else {"Content-Type": "application/json"}
        try:
            response = await self._http.request(
                method,
                endpoint,
                json=json_body,
                content=content,
                headers=headers,
                params=params,
                timeout=timeout or self._quick,
            )
        except httpx.TransportError as exc:
            raise transport_error(exc, self.base_url, endpoint) from None
        except httpx.DecodingError:
            # A gzip answer (A1111 compresses anything over 1 KB) that does not inflate.
            raise ApiError(
                ErrorKind.NOT_API,
                f"{self.base_url} sent a compressed answer to {endpoint} that does not decompress "
                "(a proxy in between may have mangled it): try again",
                endpoint=endpoint,
            ) from None
        except httpx.TooManyRedirects:
            raise ApiError(
                ErrorKind.NOT_API,
                f"{self.base_url} redirects {endpoint} in a loop: check --url and any proxy login",
                endpoint=endpoint,
            ) from None
        except httpx.InvalidURL as exc:
            raise ApiError(
                ErrorKind.UNREACHABLE, f"{self.base_url} is not a usable URL: {exc}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise http_error(response, self.base_url, endpoint)
        if endpoint.startswith(API) and endpoint != PROGRESS:
            self._api_answered = True
        return response

    async def _json(self, response: httpx.Response, endpoint: str) -> Any:
        content = response.content
        if not content.strip():
            return None
        try:
            if len(content) > THREAD_PARSE_BYTES:
                return await asyncio.to_thread(json.loads, content)
            return json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise not_api_error(response, self.base_url, endpoint) from None

    async def _call(
        self,
        method: str,
        endpoint: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Any:
        response = await self._request(
            method, endpoint, json_body=json_body, params=params, timeout=timeout
        )
        return await self._json(response, endpoint)

    def _shape_error(self, endpoint: str, exc: ResponseShapeError) -> ApiError:
        return ApiError(
            ErrorKind.NOT_API,
            f"{self.base_url} answered {endpoint} with something unexpected ({exc}): is --url the "
            "web UI's API?",
            endpoint=endpoint,
        )

    # -- generation -----------------------------------------------------------------------------

    async def txt2img(self, request: GenerationRequest) -> GenerationResult:
        return await self._generate(f"{API}/txt2img", request, "txt2img")

    async def img2img(self, request: Img2ImgRequest) -> GenerationResult:
        """POST img2img: the same answer as txt2img, made from `request.init_images`."""
        return await self._generate(f"{API}/img2img", request, "img2img")

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """img2img for an `Img2ImgRequest`, else txt2img."""
        if isinstance(request, Img2ImgRequest):
            return await self.img2img(request)
        return await self.txt2img(request)

    def _unsupported(self, exc: ApiError, endpoint: str, what: str) -> ApiError:
        """A server without `endpoint` (an older or compatible one): one line naming the feature."""
        return ApiError(
            ErrorKind.NOT_FOUND,
            f"{self.base_url} does not offer {what} (no {endpoint}: an older or a compatible "
            "server)",
            status=exc.status,
            endpoint=endpoint,
            detail=exc.detail,
        )

    async def _post_long(self, endpoint: str, body: Any, what: str) -> httpx.Response:
        """A POST that may take minutes (no read timeout); a missing endpoint says which feature
        the server lacks.

        The body is encoded in a thread: an img2img init image or an image to upscale is megabytes
        of base64, which `json.dumps` would hold the event loop for (24 ms for a 6 MB image)."""
        content = await asyncio.to_thread(_encode_json, body)
        try:
            return await self._request("POST", endpoint, content=content, timeout=self._long)
        except ApiError as exc:
            if exc.kind is ErrorKind.NOT_FOUND or (
                # img2img is among the endpoints whose 404 means "--api is off"; a server that
                # answered other API calls and lacks only this one is an older or compatible one.
                exc.kind is ErrorKind.API_DISABLED and self.offered_api
            ):
                raise self._unsupported(exc, endpoint, what) from None
            raise

    @property
    def offered_api(self) -> bool:
        """Some /sdapi/v1 call other than progress has succeeded on this client."""
        return self._api_answered

    async def _generate(
        self, endpoint: str, request: GenerationRequest, what: str
    ) -> GenerationResult:
        response = await self._post_long(endpoint, request.to_payload(), what)
        return await self._parse_images(
            response, endpoint, lambda: GenerationResult.from_bytes(response.content, request)
        )

    async def _parse_images(
        self, response: httpx.Response, endpoint: str, parse: Callable[[], _Parsed]
    ) -> _Parsed:
        """An answer carrying images, parsed in a thread (megabytes of base64); what is wrong
        with it becomes the one-line error it means."""
        try:
            return await asyncio.to_thread(parse)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise not_api_error(response, self.base_url, endpoint) from None
        except BadImageData:
            raise self._bad_image_data(endpoint) from None
        except ResponseShapeError as exc:
            raise self._shape_error(endpoint, exc) from None

    def _bad_image_data(self, endpoint: str) -> ApiError:
        return ApiError(
            ErrorKind.NOT_API,
            f"{self.base_url} sent image data that is not valid base64 (cut short or "
            "corrupted on the way?): try again, and check any proxy in between",
            endpoint=endpoint,
        )

    # -- extras (upscaling, face restoration) ---------------------------------------------------

    async def _extras(self, endpoint: str, body: Any, key: str) -> ExtrasResult:
        response = await self._post_long(endpoint, body, "upscaling")
        return await self._parse_images(
            response, endpoint, lambda: ExtrasResult.from_bytes(response.content, key)
        )

    async def extra_single_image(self, image: bytes, request: ExtrasRequest) -> ExtrasResult:
        """POST extra-single-image: one image upscaled (or faces restored). No read timeout: a
        model upscaler on a big image takes minutes."""
        body = await asyncio.to_thread(lambda: request.to_payload(_b64(image)))
        return await self._extras(f"{API}/extra-single-image", body, "image")

    async def extra_batch_images(
        self, images: list[tuple[str, bytes]], request: ExtrasRequest
    ) -> ExtrasResult:
        """POST extra-batch-images: (file name, bytes) pairs, processed in order."""
        body = await asyncio.to_thread(
            lambda: request.to_batch_payload([(name, _b64(data)) for name, data in images])
        )
        return await self._extras(f"{API}/extra-batch-images", body, "images")

    def _check_offered(self, endpoint: str) -> None:
        if endpoint in self.missing:
            raise ApiError(
                ErrorKind.NOT_FOUND, f"{self.base_url} does not offer {endpoint}", endpoint=endpoint
            )

    async def _progress_call(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        """A progress request; a server without the endpoint is remembered and not asked again."""
        self._check_offered(endpoint)
        try:
            response = await self._request(method, endpoint, **kwargs)
        except ApiError as exc:
            if is_unsupported(exc):
                self.missing.add(endpoint)
            raise
        self.offered.add(endpoint)
        return response

    async def progress(self, *, skip_current_image: bool = False) -> ProgressUpdate:
        """GET /sdapi/v1/progress: whatever job the server runs now, which may not be ours."""
        endpoint = PROGRESS
        response = await self._progress_call(
            "GET",
            endpoint,
            params={"skip_current_image": "true" if skip_current_image else "false"},
        )
        return await self._parse_progress(response, endpoint, ProgressUpdate.from_bytes)

    async def task_progress(
        self, task_id: str, *, id_live_preview: int = -1, live_preview: bool = True
    ) -> TaskProgress:
        """POST /internal/progress for one task (a generation sent with `force_task_id`).

        A preview comes back only when one newer than `id_live_preview` exists: send the last
        `TaskProgress.id_live_preview` seen and unchanged previews cost nothing. Web UI mode
        only: SD.Next, Forge variants, KoboldCpp, sd.cpp and `--nowebui` answer 404/405/501.
        """
        endpoint = TASK_PROGRESS
        response = await self._progress_call(
            "POST",
            endpoint,
            json_body={
                "id_task": task_id,
                "id_live_preview": id_live_preview,
                "live_preview": live_preview,
            },
        )
        return await self._parse_progress(response, endpoint, TaskProgress.from_bytes)

    async def _parse_progress(
        self, response: httpx.Response, endpoint: str, parse: Callable[[bytes], _Progress]
    ) -> _Progress:
        content = response.content
        try:
            if len(content) > THREAD_PARSE_BYTES:  # a live preview rides along: off the loop
                return await asyncio.to_thread(parse, content)
            return parse(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise not_api_error(response, self.base_url, endpoint) from None
        except (ResponseShapeError, AttributeError) as exc:
            raise self._shape_error(endpoint, ResponseShapeError(str(exc))) from None

    async def interrupt(self) -> None:
        await self._call("POST", f"{API}/interrupt")

    async def skip(self) -> None:
        await self._call("POST", f"{API}/skip")

    # -- settings and lists ---------------------------------------------------------------------

    async def get_options(self) -> dict[str, Any]:
        endpoint = f"{API}/options"
        data = await self._call("GET", endpoint)
        if not isinstance(data, dict):
            raise self._shape_error(endpoint, ResponseShapeError("options is not an object"))
        return data

    async def set_options(self, options: dict[str, Any]) -> None:
        """POST options. Switching `sd_model_checkpoint` blocks until the model loads: no read timeout."""
        await self._call("POST", f"{API}/options", json_body=options, timeout=self._long)

    async def set_model(self, title: str) -> None:
        await self.set_options({"sd_model_checkpoint": title})

    async def _list(self, name: str, parse: Any, what: str | None = None) -> Any:
        """GET a list; with `what`, a server without it says so in one line naming the list."""
        endpoint = f"{API}/{name}"
        try:
            data = await self._call("GET", endpoint)
        except ApiError as exc:
            if what is not None and is_unsupported(exc):
                raise self._unsupported(exc, endpoint, what) from None
            raise
        try:
            return parse(data)
        except ResponseShapeError as exc:
            raise self._shape_error(endpoint, exc) from None

    async def sd_models(self) -> list[SdModel]:
        result: list[SdModel] = await self._list("sd-models", parse_models)
        return result

    async def samplers(self) -> list[Sampler]:
        result: list[Sampler] = await self._list("samplers", parse_samplers)
        return result

    async def schedulers(self) -> list[Scheduler]:
        result: list[Scheduler] = await self._list("schedulers", parse_schedulers)
        return result

    async def upscalers(self) -> list[Upscaler]:
        result: list[Upscaler] = await self._list("upscalers", parse_upscalers, "upscalers")
        return result

    async def latent_upscale_modes(self) -> list[str]:
        """The hires fix's latent upscalers ("Latent", "Latent (nearest-exact)", ...)."""
        result: list[str] = await self._list(
            "latent-upscale-modes", parse_latent_upscale_modes, "latent upscale modes"
        )
        return result

    async def prompt_styles(self) -> list[PromptStyle]:
        result: list[PromptStyle] = await self._list("prompt-styles", parse_styles, "styles")
        return result

    async def loras(self) -> list[Lora]:
        result: list[Lora] = await self._list("loras", parse_loras, "LoRAs")
        return result

    async def embeddings(self, *, include_skipped: bool = False) -> list[Embedding]:
        """Textual-inversion embeddings loaded for the current model, by name (the skipped ones,
        marked `skipped`, after them when asked)."""
        result: list[Embedding] = await self._list(
            "embeddings", lambda d: parse_embeddings(d, include_skipped), "embeddings"
        )
        return result

    async def sd_vaes(self) -> list[SdVae]:
        """VAE files (GET sd-vae; Forge lists them as sd-modules)."""
        try:
            result: list[SdVae] = await self._list("sd-vae", parse_vaes, "VAEs")
        except ApiError as exc:
            if not is_unsupported(exc):
                raise
            result = await self._list("sd-modules", parse_vaes, "VAEs")
        return result

    async def png_info(self, image: bytes) -> PngInfo:
        endpoint = f"{API}/png-info"
        data = await self._call("POST", endpoint, json_body={"image": _b64(image)})
        if not isinstance(data, dict):
            raise self._shape_error(endpoint, ResponseShapeError("png-info is not an object"))
        items = data.get("items")
        params = data.get("parameters")
        return PngInfo(
            info=str(data.get("info") or ""),
            items=items if isinstance(items, dict) else {},
            parameters=params if isinstance(params, dict) else {},
        )
