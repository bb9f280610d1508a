from sdtui.engine.generate import (
    GenerationOutcome,
    SavedImage,
    ServerModel,
    generate,
    infotext_from_request,
    save_result,
)

__all__ = [
    "GenerationOutcome",
    "SavedImage",
    "ServerModel",
    "generate",
    "infotext_from_request",
    "save_result",
]
