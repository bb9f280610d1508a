from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sdtui.cli import main
from sdtui.cli_history import DateError, parse_date
from sdtui.store.index import HistoryIndex
from tests.history_files import age_folders, exif_image_bytes, infotext, png_bytes, write

DAY = "2026-11-30"


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config.toml"
    monkeypatch.setenv("SDTUI_CONFIG", str(config))
    monkeypatch.delenv("SDTUI_HISTORY_DIRS", raising=False)
    monkeypatch.delenv("SDTUI_OUT", raising=False)
    return config


@pytest.fixture
def out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for n in range(25):
        made = datetime(2026, 11, 30, 10, n).timestamp()
        prompt = f"a red fox number {n}\nsecond line" if n % 2 else f"a blue owl number {n}"
        model = "sdxl-turbo" if n % 5 == 0 else "sd15-base"
        write(out / DAY / f"{n:05d}-{n}.png", png_bytes(infotext(prompt, n, model=model)), made)
    return out


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["history", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    status, text, err = run(capsys, "--json", *args)
    assert status == 0, err
    data = json.loads(text)
    assert isinstance(data, list)
    return data


def test_json_lists_newest_first_with_every_field(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = as_json(capsys, "--out", str(out))
    assert len(data) == 20  # the default limit
    first = data[0]
    assert first["path"] == str(out / DAY / "00024-24.png")
    assert first["prompt"] == "a blue owl number 24"
    assert (first["seed"], first["steps"], first["sampler"], first["cfg_scale"]) == (
        24,
        20,
        "Euler a",
        7.0,
    )
    assert (first["width"], first["height"], first["model"]) == (8, 8, "sd15-base")
    assert first["negative_prompt"] == "" and first["scheduler"] is None
    assert first["model_hash"] == "abcdef1234"
    assert first["favourite"] is False and first["interrupted"] is False
    created = datetime.fromisoformat(str(first["created"]))
    assert created.tzinfo is not None
    assert created.replace(tzinfo=None) == datetime(2026, 11, 30, 10, 24)
    assert [d["seed"] for d in data] == list(range(24, 4, -1))
    assert len(as_json(capsys, "--out", str(out), "--limit", "0")) == 25
    oldest = as_json(capsys, "--out", str(out), "--oldest", "-n", "3")
    assert [d["seed"] for d in oldest] == [0, 1, 2]


def test_search_and_filters(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--out", str(out), "--limit", "0")
    assert len(as_json(capsys, *base, "--search", "red fo")) == 12
    assert [d["seed"] for d in as_json(capsys, *base, "--search", "fox number 7")] == [7]
    assert len(as_json(capsys, *base, "--model", "XL")) == 5
    since = as_json(capsys, *base, "--since", "2026-11-30 10:20")
    assert [d["seed"] for d in since] == [24, 23, 22, 21, 20]
    until = as_json(capsys, *base, "--until", "2026-11-30 10:02")
    assert [d["seed"] for d in until] == [1, 0]
    assert len(as_json(capsys, *base, "--since", DAY, "--until", DAY)) == 25  # the whole day
    assert as_json(capsys, *base, "--until", "2026-11-29") == []
    assert as_json(capsys, *base, "--favourites") == []
    assert as_json(capsys, *base, "--interrupted") == []
    assert len(as_json(capsys, *base, "--no-interrupted")) == 25
    assert len(as_json(capsys, *base, "--width", "8", "--height", "8")) == 25


def test_star_and_unstar(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = out / DAY / "00003-3.png"
    status, text, _ = run(capsys, "--out", str(out), "--star", str(target))
    assert status == 0 and "starred" in text
    starred = as_json(capsys, "--out", str(out), "--favourites")
    assert [d["path"] for d in starred] == [str(target)] and starred[0]["favourite"] is True
    assert run(capsys, "--out", str(out), "--unstar", str(target))[0] == 0
    assert as_json(capsys, "--out", str(out), "--favourites") == []
    status, _, err = run(capsys, "--out", str(out), "--star", "/etc/passwd")
    assert status == 1 and "not in the output folder" in err


def test_table_is_readable_and_cut_to_the_terminal(
    out: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, text, err = run(capsys, "--out", str(out), "--limit", "3")
    assert status == 0 and err == ""
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].split() == [
        "TIME",
        "SEED",
        "SIZE",
        "MODEL",
        "PATH",
        "PROMPT",
    ]
    assert lines[1].split()[:6] == [
        "2026-11-30",
        "10:24",
        "24",
        "8x8",
        "sd15-base",
        str(out / DAY / "00024-24.png"),
    ]
    assert lines[2].endswith("a red fox number 23")  # the prompt's first line only
    # On a terminal, the prompt is cut to the width; the path never is.
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", str(len(lines[2]) - 6))
    _, narrow, _ = run(capsys, "--out", str(out), "--limit", "3")
    row = narrow.splitlines()[2]
    assert row.endswith("…") and len(row) == len(lines[2]) - 6
    assert str(out / DAY / "00023-23.png") in row
    status, text, err = run(capsys, "--out", str(out), "--search", "zebra")
    assert (status, text) == (0, "") and "no images match" in err


def test_bad_dates_exit_2_with_one_line(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--since", "--until"):
        status, text, err = run(capsys, "--out", str(out), flag, "next tuesday")
        assert status == 2 and text == ""
        assert err.count("\n") == 1 and "cannot read the date 'next tuesday'" in err


def test_dates() -> None:
    now = datetime(2026, 12, 1, 15, 30)
    assert parse_date("2026-11-30", now=now) == datetime(2026, 11, 30)
    assert parse_date("2026-11-30", end=True, now=now) == datetime(2026, 12, 1)
    assert parse_date("2026-11-30 10:20", end=True, now=now) == datetime(2026, 11, 30, 10, 20)
    assert parse_date("2026-11-30T10:20:05", now=now) == datetime(2026, 11, 30, 10, 20, 5)
    assert parse_date("today", now=now) == datetime(2026, 12, 1)
    assert parse_date("yesterday", end=True, now=now) == datetime(2026, 12, 1)
    assert parse_date("3d", now=now) == datetime(2026, 11, 28, 15, 30)
    assert parse_date("12h", now=now) == datetime(2026, 12, 1, 3, 30)
    assert parse_date("2w", now=now) == datetime(2026, 11, 17, 15, 30)
    for bad in ("", "soon", "2026-13-01", "3y"):
        with pytest.raises(DateError):
            parse_date(bad, now=now)


def test_history_dirs_from_the_command_line_and_the_config(
    out: Path, tmp_path: Path, no_user_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    webui = tmp_path / "webui" / "outputs"
    jpeg = exif_image_bytes(infotext("a castle from the web ui", 77), "JPEG", encoding="utf16-le")
    write(webui / "txt2img-images" / "2026-12-01" / "00000-77.jpg", jpeg)
    other = tmp_path / "other"
    write(other / "x.webp", exif_image_bytes(infotext("an other folder", 78), "WEBP"))
    found = as_json(capsys, "--out", str(out), "--history-dir", str(webui), "--search", "castle")
    assert [(d["seed"], d["imported"]) for d in found] == [(77, True)]
    no_user_config.write_text(f"history_dirs = [{json.dumps(str(other))}]\n")
    assert [d["seed"] for d in as_json(capsys, "--out", str(out), "--search", "other")] == [78]
    assert as_json(capsys, "--out", str(out), "--search", "castle") == []
    # The command line replaces the config's list.
    both = ("--history-dir", str(webui), "--search", "castle other")
    assert as_json(capsys, "--out", str(out), *both) == []
    status, _, err = run(capsys, "--out", str(out), "--history-dir", str(tmp_path / "nope"))
    assert status == 1 and "nope is not a folder" in err


def test_empty_trash(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(out / ".trash" / DAY / "a.png", png_bytes(None))
    write(out / ".trash" / DAY / "b.png", png_bytes(None))
    status, text, _ = run(capsys, "--out", str(out), "--empty-trash")
    assert (status, text.strip()) == (0, "removed 2 files from the trash")
    assert not (out / ".trash").exists()


def test_a_rebuild_says_so_in_one_line_on_stderr(
    out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(200):
        write(out / "many" / f"{n}.png", png_bytes(infotext(f"filler {n}", n)))
    age_folders(out)
    status, text, err = run(capsys, "--out", str(out), "--json", "-n", "1")
    assert status == 0 and len(json.loads(text)) == 1
    assert err == "sdtui: building the history index from 225 images\n"
    status, _, err = run(capsys, "--out", str(out), "--json", "-n", "1")
    assert err == ""  # nothing to read the second time
    db = HistoryIndex.default_path()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(b"garbage" * 1000)
    status, text, err = run(capsys, "--out", str(out), "--json", "-n", "1")
    assert status == 0 and len(json.loads(text)) == 1
    assert err == "sdtui: rebuilding the history index from 225 images\n"


def _subprocess(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, *args], capture_output=True, text=True, timeout=60, env=os.environ, **kw
    )


def test_no_textual_nor_httpx(out: Path) -> None:
    code = (
        "import sys; from sdtui.cli import main; "
        f"status = main(['history', '--out', {str(out)!r}, '--json']); "
        "bad = [m for m in ('textual', 'httpx') if m in sys.modules]; "
        "print(bad, status, file=sys.stderr)"
    )
    done = _subprocess(["-c", code])
    assert done.stderr.strip().endswith("[] 0"), done.stderr
    assert len(json.loads(done.stdout)) == 20


def test_a_closed_pipe_is_quiet(out: Path) -> None:
    for n in range(800):  # far more than a pipe's buffer holds
        write(out / "many" / f"{n}.png", png_bytes(infotext(f"filler {n} " + "word " * 20, n)))
    code = (
        "import sys; from sdtui.cli import main; "
        f"sys.exit(main(['history', '--out', {str(out)!r}, '--limit', '0']))"
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(10)
    reader.stdout.close()  # `| head -c 10`
    err = reader.stderr.read().decode()
    assert reader.wait(60) in (0, 141)
    assert "Traceback" not in err and "Broken pipe" not in err


def test_a_broken_pipe_mid_table_is_quiet(
    out: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    run(capsys, "--out", str(out))  # index first
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", ClosedPipe())
        status = main(["history", "--out", str(out)])
    assert status == 141
    assert capsys.readouterr().err == ""


def test_a_locked_index_is_one_line(
    out: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    def locked(self: HistoryIndex, *args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(HistoryIndex, "scan", locked)
    status, text, err = run(capsys, "--out", str(out))
    assert (status, text) == (1, "")
    assert err.count("\n") == 1 and "cannot be used now: database is locked" in err
