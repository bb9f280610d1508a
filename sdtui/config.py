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

    [servers.gpu1]              # one table a server: sdtui keeps every one of them busy
    url = "http://10.0.0.5:7860"
    user = "me"                 # for a server started with --api-auth
    password_env = "GPU1_PASSWORD"   # the password is read from this environment variable

    [servers.gpu2]
    url = "https://gpu2.lan:7860/sd"

With `[servers.*]` tables, every one is used unless `--url` names some (by table name or URL;
`--url` may be given more than once); without them, `url` is the one server.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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
class ServerProfile:
    """One server to run jobs on: a `[servers.NAME]` table, or a bare URL (named host:port)."""

    name: str
    url: str  # without credentials: safe to show and log
    user: str | None = None
    password: str | None = None


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
    #: The config's `[servers.NAME]` tables, in file order.
    servers: tuple[ServerProfile, ...] = ()
    #: The servers asked for on the command line (`--url`, repeatable): URLs or profile names.
    urls: tuple[str, ...] = ()
    #: Profiles whose `password_env` names an unset variable: name -> variable. An error only
    #: when that profile is used.
    missing_passwords: Mapping[str, str] = field(default_factory=dict)

    @property
    def output_dir(self) -> Path:
        return self.out if self.out is not None else default_output_dir()

    def server_profiles(self) -> tuple[ServerProfile, ...]:
        """The servers to use: those `urls` names (a profile's name picks it; a URL makes a
        profile named host:port), else every `[servers.*]` profile, else the single `url`.
        Never empty. ConfigError (one line) for a value that is neither, or a password that is
        missing from the environment."""
        if self.urls:
            by_name = {profile.name: profile for profile in self.servers}
            picked = [by_name.get(value.strip()) or self._url_profile(value) for value in self.urls]
        elif self.servers:
            picked = list(self.servers)
        else:
            picked = [self._url_profile(self.url, checked=False)]
        for profile in picked:
            variable = self.missing_passwords.get(profile.name)
            if variable is not None and profile in self.servers:
                raise ConfigError(
                    f"server '{profile.name}': its password_env {variable} is not set "
                    f"(export {variable}=..., or drop password_env)"
                )
        return tuple(dict.fromkeys(picked))  # the same server named twice runs once

    def _url_profile(self, value: str, *, checked: bool = True) -> ServerProfile:
        """A profile for a bare URL: credentials from the URL, else the user/password settings."""
        if checked:
            problem = url_problem(value)
            if problem is not None:
                names = ", ".join(p.name for p in self.servers)
                known = f"; the config's servers: {names}" if names else ""
                raise ConfigError(f"--url {value.strip()!r}: {problem}{known}")
        base, url_user, url_password, name = _split_url(value)
        user = self.user if self.user is not None else url_user
        password = self.password if self.password is not None else url_password
        return ServerProfile(name, base, user or None, password or None)

    def merged(self, **overrides: Any) -> Settings:
        """A copy with every override that is not None applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_STR_FIELDS = ("url", "user", "password", "theme")
_SERVER_KEYS = ("url", "user", "password_env")


def url_problem(value: str) -> str | None:
    """Why `value` is not a server URL (one line), or None. A scheme-less `host:port` is one
    (http:// is meant)."""
    text = value.strip()
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            return f"not an http:// or https:// URL (it starts with {scheme}://)"
    elif not _HOST_PORT.match(text):
        return "not a URL (http://host:7860) nor the name of a server in the config"
    try:
        parts = urlsplit(text if "://" in text else "http://" + text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if not parts.hostname:
        return "the URL names no host"
    return None


_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s/:@\[\]]+):\d+(/\S*)?$")


def _split_url(url: str) -> tuple[str, str | None, str | None, str]:
    """`http://me:pw@host:7860/sd` -> (`http://host:7860/sd`, "me", "pw", "host:7860/sd")."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{netloc}{path}", user, password, netloc + path


def _servers_from(
    data: Any, origin: str, env: Mapping[str, str]
) -> tuple[tuple[ServerProfile, ...], dict[str, str]]:
    """The `[servers.NAME]` tables, and the profiles whose password variable is unset."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: [servers] must hold tables, e.g. [servers.gpu1] url = ...")
    profiles: list[ServerProfile] = []
    missing: dict[str, str] = {}
    for name, table in data.items():
        where = f"{origin}: [servers.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f'{where} must be a table with url = "http://host:7860"')
        unknown = sorted(set(table) - set(_SERVER_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}: unknown key '{unknown[0]}' (it takes {', '.join(_SERVER_KEYS)}; "
                "the password is read from the variable password_env names)"
            )
        for key in _SERVER_KEYS:
            if key in table and not (isinstance(table[key], str) and table[key].strip()):
                raise ConfigError(f"{where}: '{key}' must be a non-empty string")
        if "url" not in table:
            raise ConfigError(f'{where} has no url (url = "http://host:7860")')
        if "://" not in table["url"] or url_problem(table["url"]) is not None:
            raise ConfigError(
                f"{where}: url must be an http:// or https:// URL with a host, not {table['url']!r}"
            )
        base, url_user, url_password, _ = _split_url(table["url"])
        user = table.get("user", url_user)
        password = url_password
        variable = table.get("password_env")
        if variable is not None:
            password = env.get(variable)
            if password is None:
                missing[name] = variable
        profiles.append(ServerProfile(name, base, user, password))
    return tuple(profiles), missing


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
        if "servers" in data:
            values["servers"], values["missing_passwords"] = _servers_from(
                data["servers"], str(path), env
            )
    env_values = {
        name: env[f"SDTUI_{name.upper()}"]
        for name in (*_STR_FIELDS, "out", "history_dirs", "history_dirs_writable")
        if env.get(f"SDTUI_{name.upper()}")
    }
    values.update(_from_mapping(env_values, _ENVIRONMENT))
    return Settings(**values)
