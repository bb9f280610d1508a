from __future__ import annotations

from pathlib import Path

import pytest

from sdtui.config import ConfigError, Settings, load_settings


def test_defaults_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert load_settings(path, {}) == Settings()
    path.write_text(
        'url = "http://gpu:7860"\nuser = "me"\ntheme = "nord"\n[keys]\ngenerate = "f5"\n'
    )
    settings = load_settings(path, {"SDTUI_URL": "http://other:1234", "SDTUI_PASSWORD": "pw"})
    assert settings.url == "http://other:1234"
    assert (settings.user, settings.password, settings.theme) == ("me", "pw", "nord")
    assert settings.keys == {"generate": "f5"}
    assert settings.merged(url="http://cli:1", user=None).url == "http://cli:1"
    assert settings.merged(user=None).user == "me"


def test_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("url = [1, 2]\n")
    with pytest.raises(ConfigError, match="'url' must be a string"):
        load_settings(path, {})
    path.write_text("url = \n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(path, {})
