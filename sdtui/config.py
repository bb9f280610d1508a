"""Settings: command line over environment over the TOML file over defaults.

The file lives in the user's config folder (`sdtui --help` prints the path); `SDTUI_CONFIG` points
elsewhere. `SDTUI_URL`, `SDTUI_USER`, `SDTUI_PASSWORD`, `SDTUI_THEME`, `SDTUI_OUT`,
`SDTUI_HISTORY_DIRS` (folders separated by `:`, the platform's path separator) and
`SDTUI_HISTORY_DIRS_WRITABLE` override the file. Example::

    url = "http://127.0.0.1:7860"
    user = "me"                 # or SDTUI_USER; the password is best kept in SDTUI_PASSWORD
    out = "~/Pictures/sdtui"
    theme = "textual-dark"
    history_dirs = ["~/stable-diffusion-webui/outputs"]   # shown in the history, read-only
    history_dirs_writable = false   # true lets sdtui move files there to its trash

    [keys]                      # binding id = key(s), see the footer / command palette
    generate = "ctrl+g"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "sdtui"
DEFAULT_URL = "http://127.0.0.1:7860"


class ConfigError(ValueError):
    """The config file is unreadable or holds a value of the wrong type."""


def config_path() -> Path:
    override = os.environ.get("SDTUI_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_output_dir() -> Path:
    """Where images go unless told otherwise: the user's pictures folder, else the data folder."""
    pictures = Path(platformdirs.user_pictures_dir())
    if pictures.is_dir():
        return pictures / APP_NAME
    return Path(platformdirs.user_data_dir(APP_NAME)) / "images"


def state_dir() -> Path:
    """Small files the app keeps between runs (the form's last values)."""
    override = os.environ.get("SDTUI_STATE_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_state_dir(APP_NAME))


@dataclass(frozen=True)
class Settings:
    url: str = DEFAULT_URL
    user: str | None = None
    password: str | None = None
    out: Path | None = None
    theme: str = "textual-dark"
    keys: Mapping[str, str] = field(default_factory=dict)
    poll_interval: float = 0.5
    #: Folders of existing images (the web UI's outputs) the history shows beside the output folder.
    history_dirs: tuple[Path, ...] = ()
    #: Whether deleting may move files out of `history_dirs` (into a trash folder there).
    history_dirs_writable: bool = False

    @property
    def output_dir(self) -> Path:
        return self.out if self.out is not None else default_output_dir()

    def merged(self, **overrides: Any) -> Settings:
        """A copy with every override that is not None applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_STR_FIELDS = ("url", "user", "password", "theme")


def _from_mapping(data: Mapping[str, Any], origin: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _STR_FIELDS:
        if name in data:
            if not isinstance(data[name], str):
                raise ConfigError(f"{origin}: '{name}' must be a string")
            values[name] = data[name]
    if "out" in data:
        if not isinstance(data["out"], str):
            raise ConfigError(f"{origin}: 'out' must be a string (a folder path)")
        values["out"] = Path(data["out"]).expanduser()
    if "poll_interval" in data:
        interval = data["poll_interval"]
        if not isinstance(interval, int | float) or not 0.05 <= interval <= 10:
            raise ConfigError(f"{origin}: 'poll_interval' must be a number of seconds, 0.05 to 10")
        values["poll_interval"] = float(interval)
    if "keys" in data:
        keys = data["keys"]
        if not isinstance(keys, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
        ):
            raise ConfigError(f"{origin}: [keys] must map binding ids to key strings")
        values["keys"] = dict(keys)
    if "history_dirs" in data:
        dirs = data["history_dirs"]
        if isinstance(dirs, str) and origin == _ENVIRONMENT:  # os.pathsep-separated
            dirs = [part for part in dirs.split(os.pathsep) if part]
        if not isinstance(dirs, list) or not all(isinstance(d, str) and d for d in dirs):
            raise ConfigError(f"{origin}: 'history_dirs' must be a list of folder paths")
        values["history_dirs"] = tuple(Path(d).expanduser() for d in dirs)
    if "history_dirs_writable" in data:
        flag = data["history_dirs_writable"]
        if isinstance(flag, str) and origin == _ENVIRONMENT:
            lowered = flag.strip().lower()
            if lowered in _TRUE:
                flag = True
            elif lowered in _FALSE:
                flag = False
        if not isinstance(flag, bool):
            raise ConfigError(f"{origin}: 'history_dirs_writable' must be true or false")
        values["history_dirs_writable"] = flag
    return values


_ENVIRONMENT = "environment"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file (if any), then SDTUI_* environment variables."""
    path = path or config_path()
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        values.update(_from_mapping(data, str(path)))
    env_values = {
        name: env[f"SDTUI_{name.upper()}"]
        for name in (*_STR_FIELDS, "out", "history_dirs", "history_dirs_writable")
        if env.get(f"SDTUI_{name.upper()}")
    }
    values.update(_from_mapping(env_values, _ENVIRONMENT))
    return Settings(**values)
