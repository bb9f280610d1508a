from __future__ import annotations

from pathlib import Path

import pytest

from sdtui.config import DEFAULT_URL, ConfigError, ServerProfile, Settings, load_settings


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


SERVERS = """\
url = "http://single:7860"
[servers.gpu1]
url = "http://10.0.0.5:7860/"
user = "me"
password_env = "GPU1_PASSWORD"
[servers.gpu2]
url = "https://al:secret@gpu2.lan:7861/sd"
"""


def test_server_profiles_from_the_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SERVERS)
    settings = load_settings(path, {"GPU1_PASSWORD": "pw1"})
    gpu1 = ServerProfile("gpu1", "http://10.0.0.5:7860", "me", "pw1")
    gpu2 = ServerProfile("gpu2", "https://gpu2.lan:7861/sd", "al", "secret")
    assert settings.servers == (gpu1, gpu2)
    # No --url: every profile, in file order (the top-level url is for a config without them).
    assert settings.server_profiles() == (gpu1, gpu2)
    # --url picks profiles by name, and takes URLs (named host:port), in the order given.
    picked = settings.merged(urls=("gpu2", "http://u:p@other:9000", "gpu2", "box:7860"))
    assert picked.server_profiles() == (
        gpu2,
        ServerProfile("other:9000", "http://other:9000", "u", "p"),
        ServerProfile("box:7860", "http://box:7860"),
    )
    # The user/password settings apply to a bare URL, as they always did to the one `url`.
    withuser = picked.merged(user="cli", password="pw", urls=("http://other:9000",))
    assert withuser.server_profiles() == (
        ServerProfile("other:9000", "http://other:9000", "cli", "pw"),
    )


def test_without_profiles_the_single_url_is_the_server(tmp_path: Path) -> None:
    assert Settings().server_profiles() == (ServerProfile("127.0.0.1:7860", DEFAULT_URL),)
    path = tmp_path / "config.toml"
    path.write_text('url = "http://me:pw@gpu:7860"\n')
    settings = load_settings(path, {"SDTUI_PASSWORD": "env"})
    assert settings.servers == ()
    assert settings.server_profiles() == (
        ServerProfile("gpu:7860", "http://gpu:7860", "me", "env"),
    )


def test_a_missing_password_variable_names_it_when_that_server_is_used(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SERVERS)
    settings = load_settings(path, {})
    with pytest.raises(
        ConfigError, match=r"server 'gpu1': its password_env GPU1_PASSWORD is not set"
    ):
        settings.server_profiles()
    # Another server asked for by name: the unset variable does not matter.
    assert [p.name for p in settings.merged(urls=("gpu2",)).server_profiles()] == ["gpu2"]


def test_an_unknown_url_value_lists_the_profiles(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SERVERS)
    settings = load_settings(path, {"GPU1_PASSWORD": "x"})
    with pytest.raises(ConfigError) as info:
        settings.merged(urls=("gpu3",)).server_profiles()
    message = str(info.value)
    assert "'gpu3'" in message and "gpu1, gpu2" in message and "\n" not in message
    with pytest.raises(ConfigError, match=r"ftp://"):
        settings.merged(urls=("ftp://box:21",)).server_profiles()
    with pytest.raises(ConfigError, match="not a URL"):
        Settings(urls=("nohost",)).server_profiles()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('servers = "gpu"\n', r"\[servers\] must hold tables"),
        ("[servers]\ngpu1 = 3\n", r"\[servers.gpu1\] must be a table"),
        ('[servers.gpu1]\nuser = "me"\n', r"\[servers.gpu1\] has no url"),
        ('[servers.gpu1]\nurl = "gpu:7860"\n', r"url must be an http:// or https:// URL"),
        ('[servers.gpu1]\nurl = "ftp://gpu"\n', r"url must be an http:// or https:// URL"),
        ("[servers.gpu1]\nurl = 7860\n", r"'url' must be a non-empty string"),
        ('[servers.gpu1]\nurl = "http://g:1"\npassword = "x"\n', r"unknown key 'password'"),
    ],
)
def test_bad_server_tables_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(path, {})
    assert "\n" not in str(info.value)
