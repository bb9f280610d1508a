"""What the TUI knows about the server: its lists and the loaded model."""

from __future__ import annotations

from dataclasses import dataclass, field

from sdtui.api import Sampler, Scheduler, SdModel
from sdtui.engine.generate import ServerModel
from sdtui.engine.names import split_checkpoint_title


@dataclass(frozen=True)
class ServerFacts:
    """One answer to "what does the server offer": read at each (re)connection."""

    samplers: list[Sampler] = field(default_factory=list)
    schedulers: list[Scheduler] = field(default_factory=list)
    models: list[SdModel] = field(default_factory=list)
    model_title: str | None = None  # the loaded checkpoint's title

    def with_model(self, title: str | None) -> ServerFacts:
        return ServerFacts(self.samplers, self.schedulers, self.models, title)

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
