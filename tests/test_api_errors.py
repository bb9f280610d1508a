"""Every way a server can fail becomes one ApiError with a message that says what to do."""

from __future__ import annotations

import socket

import pytest

from sdtui.api import ApiError, ErrorKind, GenerationRequest, SDClient, split_credentials
from tests.faulty import FaultyServer, Reply, json_reply

TXT2IMG = ("POST", "/sdapi/v1/txt2img")
OPTIONS = ("GET", "/sdapi/v1/options")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def fail(url: str, **client_kwargs: object) -> ApiError:
    async with SDClient(url, **client_kwargs) as client:  # type: ignore[arg-type]
        with pytest.raises(ApiError) as caught:
            await client.txt2img(GenerationRequest(prompt="x"))
    return caught.value


async def test_nothing_listening_names_url_and_fix() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    error = await fail(url)
    assert error.kind is ErrorKind.UNREACHABLE
    assert url in error.message
    assert "--api" in error.message and "--demo" in error.message
    assert "\n" not in error.message


async def test_unresolvable_host() -> None:
    error = await fail("http://no-such-host.invalid:7860")
    assert error.kind is ErrorKind.UNREACHABLE
    assert "no-such-host.invalid" in error.message


async def test_api_not_enabled() -> None:
    with FaultyServer() as server:
        error = await fail(server.url)
    assert error.kind is ErrorKind.API_DISABLED
    assert "start the web UI with --api" in error.message


@pytest.mark.parametrize(
    ("detail", "kind", "words"),
    [
        ("Not authenticated", ErrorKind.AUTH_MISSING, "needs a user name and password"),
        (
            "Incorrect username or password",
            ErrorKind.AUTH_WRONG,
            "refused the user name or password",
        ),
    ],
)
async def test_unauthorised(detail: str, kind: ErrorKind, words: str) -> None:
    body = {"error": "HTTPException", "detail": detail, "body": "", "errors": ""}
    with FaultyServer({TXT2IMG: json_reply(body, 401)}) as server:
        error = await fail(server.url, user="me", password="hunter2")
        assert server.seen[0].headers.get("Authorization", "").startswith("Basic ")
    assert error.kind is kind
    assert words in error.message
    assert "hunter2" not in error.message and "hunter2" not in str(error)


async def test_422_pydantic_v1_names_the_field() -> None:
    body = {
        "detail": [
            {
                "loc": ["body", "steps"],
                "msg": "value is not a valid integer",
                "type": "type_error.integer",
            }
        ]
    }
    with FaultyServer({TXT2IMG: json_reply(body, 422)}) as server:
        error = await fail(server.url)
    assert error.kind is ErrorKind.VALIDATION
    assert "steps: value is not a valid integer" in error.message


async def test_422_pydantic_v2_forge_shape() -> None:
    body = {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["body", "width"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "wide",
                "url": "https://errors.pydantic.dev/2.7/v/int_parsing",
            }
        ]
    }
    with FaultyServer({TXT2IMG: json_reply(body, 422)}) as server:
        error = await fail(server.url)
    assert "width: Input should be a valid integer" in error.message


async def test_server_error_wrapper_shows_cuda_oom() -> None:
    body = {
        "error": "OutOfMemoryError",
        "detail": "",
        "body": "",
        "errors": "CUDA out of memory. Tried to allocate 2.00 GiB",
    }
    with FaultyServer({TXT2IMG: json_reply(body, 500)}) as server:
        error = await fail(server.url)
    assert error.kind is ErrorKind.SERVER
    assert "CUDA out of memory. Tried to allocate 2.00 GiB" in error.message


async def test_forge_detail_only_error() -> None:
    with FaultyServer({TXT2IMG: json_reply({"detail": "Sampler not found: Foo"}, 500)}) as server:
        error = await fail(server.url)
    assert "Sampler not found: Foo" in error.message


async def test_sdcpp_error_shape() -> None:
    body = {"error": "server_error", "message": "model not loaded"}
    with FaultyServer({TXT2IMG: json_reply(body, 500)}) as server:
        error = await fail(server.url)
    assert "model not loaded" in error.message


async def test_busy_503_koboldcpp() -> None:
    body = {
        "detail": {"msg": "Server is busy; please try again later.", "type": "service_unavailable"}
    }
    with FaultyServer({TXT2IMG: json_reply(body, 503)}) as server:
        error = await fail(server.url)
    assert error.kind is ErrorKind.BUSY
    assert error.retryable
    assert "busy" in error.message and "retry" in error.message


async def test_html_page_is_not_the_api() -> None:
    page = Reply(200, "<html><body>Please log in</body></html>", content_type="text/html")
    with FaultyServer({TXT2IMG: page}) as server:
        error = await fail(server.url)
    assert error.kind is ErrorKind.NOT_API
    assert "does not look like the Stable Diffusion web UI API" in error.message
    assert "text/html" in error.message


async def test_json_of_the_wrong_shape_is_not_the_api() -> None:
    with FaultyServer({TXT2IMG: json_reply({"hello": "world"})}) as server:
        error = await fail(server.url)
    assert error.kind is ErrorKind.NOT_API


async def test_connection_dropped_mid_response() -> None:
    reply = Reply(200, b'{"images": ["' + b"A" * 5000 + b'"]}', drop_after=100)
    with FaultyServer({TXT2IMG: reply}) as server:
        error = await fail(server.url)
    assert error.kind is ErrorKind.DROPPED
    assert "broke" in error.message


async def test_server_text_cannot_reach_the_terminal() -> None:
    evil = "boom\x1b]0;pwned\x07\x1b[2J\r\nsecond line"
    with FaultyServer({TXT2IMG: json_reply({"detail": evil}, 500)}) as server:
        error = await fail(server.url)
    assert "\x1b" not in error.message and "\r" not in error.message and "\n" not in error.message
    assert "pwned" not in error.message
    assert "boom" in error.message and "second line" in error.message


def test_credentials_in_url_are_split_off() -> None:
    assert split_credentials("http://me:s%40cret@gpu-box:7860/sd/") == (
        "http://gpu-box:7860/sd",
        "me",
        "s@cret",
    )
    assert split_credentials("127.0.0.1:7860") == ("http://127.0.0.1:7860", None, None)


async def test_url_credentials_and_path_prefix_are_used() -> None:
    seen_paths: list[str] = []

    def options(seen: object) -> Reply:
        return json_reply({"sd_model_checkpoint": "m [abc]"})

    with FaultyServer({("GET", "/proxy/sdapi/v1/options"): options}) as server:
        host = server.url.removeprefix("http://")
        async with SDClient(f"http://me:pw@{host}/proxy/") as client:
            assert client.base_url == server.url + "/proxy"
            options_seen = await client.get_options()
        seen_paths = [s.path for s in server.seen]
        auth = server.seen[0].headers["Authorization"]
    assert options_seen["sd_model_checkpoint"] == "m [abc]"
    assert seen_paths == ["/proxy/sdapi/v1/options"]
    assert auth == "Basic bWU6cHc="  # me:pw


async def test_generation_has_no_read_timeout_but_quick_calls_do() -> None:
    """A job longer than the quick-call timeout still completes; a quick call times out."""
    slow = json_reply({"images": [], "parameters": {}, "info": ""})
    slow.delay = 1.2
    slow_options = json_reply({})
    slow_options.delay = 1.2
    with FaultyServer({TXT2IMG: slow, OPTIONS: slow_options}) as server:
        async with SDClient(server.url, quick_timeout=0.5) as client:
            result = await client.txt2img(GenerationRequest())
            assert result.images == []
            with pytest.raises(ApiError) as caught:
                await client.get_options()
    assert caught.value.kind is ErrorKind.TIMEOUT
