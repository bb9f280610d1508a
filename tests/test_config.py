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


def test_history_dirs_from_file_environment_and_command_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert Settings().history_dirs == ()
    assert Settings().history_dirs_writable is False
    path.write_text(
        'history_dirs = ["~/webui/outputs", "/srv/old"]\nhistory_dirs_writable = true\n'
    )
    settings = load_settings(path, {})
    assert settings.history_dirs == (Path("~/webui/outputs").expanduser(), Path("/srv/old"))
    assert settings.history_dirs_writable is True
    env = {"SDTUI_HISTORY_DIRS": "/a:/b", "SDTUI_HISTORY_DIRS_WRITABLE": "no"}
    settings = load_settings(path, env)
    assert settings.history_dirs == (Path("/a"), Path("/b"))
    assert settings.history_dirs_writable is False
    # The command line's --history-dir list beats both.
    assert settings.merged(history_dirs=(Path("/cli"),)).history_dirs == (Path("/cli"),)
    assert settings.merged(history_dirs=None).history_dirs == (Path("/a"), Path("/b"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('history_dirs = "/one"\n', "'history_dirs' must be a list of folder paths"),
        ("history_dirs = [1]\n", "'history_dirs' must be a list of folder paths"),
        ('history_dirs_writable = "maybe"\n', "'history_dirs_writable' must be true or false"),
    ],
)
def test_bad_history_settings_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, {})
    with pytest.raises(ConfigError, match="environment: 'history_dirs_writable'"):
        load_settings(tmp_path / "none.toml", {"SDTUI_HISTORY_DIRS_WRITABLE": "perhaps"})
