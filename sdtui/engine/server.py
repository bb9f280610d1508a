"""What the TUI knows about the server: its lists and the loaded model."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sdtui.api import (
    ApiError,
    Embedding,
    ErrorKind,
    Lora,
    PromptStyle,
    Sampler,
    Scheduler,
    SdModel,
    SdVae,
    Upscaler,
)
from sdtui.engine.generate import ServerModel
from sdtui.engine.names import split_checkpoint_title

if TYPE_CHECKING:
    from sdtui.api.client import SDClient

_T = TypeVar("_T")


@dataclass(frozen=True)
class ServerFacts:
    """One answer to "what does the server offer": read at each (re)connection.

    The lists after `model_title` are empty where the server has no such list (KoboldCpp and
    sd.cpp offer none of them)."""

    samplers: list[Sampler] = field(default_factory=list)
    schedulers: list[Scheduler] = field(default_factory=list)
    models: list[SdModel] = field(default_factory=list)
    model_title: str | None = None  # the loaded checkpoint's title
    styles: list[PromptStyle] = field(default_factory=list)
    loras: list[Lora] = field(default_factory=list)
    embeddings: list[Embedding] = field(default_factory=list)
    upscalers: list[Upscaler] = field(default_factory=list)
    latent_upscale_modes: list[str] = field(default_factory=list)
    vaes: list[SdVae] = field(default_factory=list)

    def with_model(self, title: str | None) -> ServerFacts:
        return dataclasses.replace(self, model_title=title)

    @property
    def model(self) -> ServerModel:
        """The loaded model's name and hash, as infotexts built from a request need them."""
        title = self.model_title
        if not title:
            return ServerModel()
        for model in self.models:
            if model.title == title:
                return ServerModel(name=model.model_name, hash=model.hash)
        name, model_hash = split_checkpoint_title(title)
        return ServerModel(name=title if model_hash is None else name, hash=model_hash)

    @property
    def hires_upscalers(self) -> list[str]:
        """What the hires fix's upscaler choice offers, as the web UI's dropdown does: the
        latent modes, then every upscaler ("None" resizes the first pass with Lanczos)."""
        names = [*self.latent_upscale_modes]
        names += [u.name for u in self.upscalers if u.name]
        return list(dict.fromkeys(names))


# Failures of an optional list that say the server itself is unusable right now: these end the
# whole fetch, as a failing model list does. Anything else (no such endpoint, a broken extension's
# 500, an answer of the wrong shape) leaves that one list empty.
_FATAL = frozenset(
    {
        ErrorKind.UNREACHABLE,
        ErrorKind.DROPPED,
        ErrorKind.TIMEOUT,
        ErrorKind.AUTH_MISSING,
        ErrorKind.AUTH_WRONG,
    }
)


async def _optional(call: Callable[[], Awaitable[list[_T]]]) -> list[_T]:
    try:
        return await call()
    except ApiError as exc:
        if exc.kind in _FATAL:
            raise
        return []


async def fetch_server_facts(client: SDClient) -> ServerFacts:
    """Every list the form offers, fetched at once.

    The options, models and samplers are essential: their ApiError ends the fetch (the caller
    retries). The other lists are optional: a server without one gets an empty list."""
    optional: list[Callable[[], Awaitable[list[Any]]]] = [
        client.schedulers,
        client.prompt_styles,
        client.loras,
        client.embeddings,
        client.upscalers,
        client.latent_upscale_modes,
        client.sd_vaes,
    ]
    tasks: list[asyncio.Task[Any]] = [
        asyncio.ensure_future(client.get_options()),
        asyncio.ensure_future(client.sd_models()),
        asyncio.ensure_future(client.samplers()),
        *(asyncio.ensure_future(_optional(call)) for call in optional),
    ]
    try:
        answers = await asyncio.gather(*tasks, return_exceptions=True)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    # The first essential list's error, in a fixed order: whichever answered first would make
    # the message change from one try to the next (options' 404 is the one that says --api).
    results: list[Any] = []
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
        results.append(answer)
    options, models, samplers, schedulers, styles, loras, embeddings, upscalers, latent, vaes = (
        results
    )
    current = options.get("sd_model_checkpoint")
    return ServerFacts(
        samplers=samplers,
        schedulers=schedulers,
        models=models,
        model_title=current if isinstance(current, str) else None,
        styles=styles,
        loras=loras,
        embeddings=embeddings,
        upscalers=upscalers,
        latent_upscale_modes=latent,
        vaes=vaes,
    )
