"""What no honest server produces, driven through ``httpx.MockTransport``.

Every malformed answer must raise the right error and leave the destination
file byte-identical to what it was before the call. Behaviour a real server
can show (ranges, 404/410, cut-off bodies, 429/503) is tested against the
reference server in ``test_client_server.py``.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import gzip
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from manuscript_gui.net import (
    MAX_EMPTY_PAGES,
    ApiClient,
    DownloadResult,
    DownloadStart,
    IncompleteBody,
    NetworkError,
    Page,
    PageGuard,
    ProtocolError,
    RateLimited,
    ServerError,
    Unauthorized,
)

DATA = bytes(range(256)) * 400  # 102,400 bytes
SHA = hashlib.sha256(DATA).hexdigest()
ETAG = '"v1-abc"'
TS = "2026-01-02T03:04:05Z"
BASE = "http://wp.test"

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, token: str | None = "tok") -> ApiClient:
    return ApiClient(BASE, token=token, transport=httpx.MockTransport(handler))


def content_answer(
    request: httpx.Request,
    data: bytes = DATA,
    etag: str = ETAG,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    """A correct answer of the contract, honouring Range and If-Range."""
    headers = {
        "Content-Type": "application/octet-stream",
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Repr-Digest": "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":",
    }
    rng = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if rng and (if_range is None or if_range == etag):
        start = int(rng.removeprefix("bytes=").rstrip("-"))
        if start >= len(data):
            return httpx.Response(416, headers={"Content-Range": f"bytes */{len(data)}"})
        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        headers.update(extra or {})
        return httpx.Response(206, headers=headers, content=data[start:])
    headers.update(extra or {})
    return httpx.Response(200, headers=headers, content=data)


class CutStream(httpx.AsyncByteStream):
    """A body that stops after ``cut`` bytes, with an error or a clean EOF."""

    def __init__(self, data: bytes, cut: int, error: Exception | None) -> None:
        self._data, self._cut, self._error = data, cut, error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data[: self._cut // 2]
        yield self._data[self._cut // 2 : self._cut]
        if self._error is not None:
            raise self._error


async def download(client: ApiClient, dest: Path, **kw: Any) -> DownloadResult:
    args: dict[str, Any] = {"expected_size": len(DATA), "expected_sha256": SHA, "etag": ETAG}
    args.update(kw)
    return await client.download_to("f1", 1, dest, **args)


def partial(tmp_path: Path, n: int = 1000) -> tuple[Path, bytes]:
    dest = tmp_path / "file.part"
    dest.write_bytes(DATA[:n])
    return dest, DATA[:n]


# -- downloads: answers that must never be written ------------------------------


@pytest.mark.parametrize(
    ("content_range", "why"),
    [
        (f"bytes 999-{len(DATA) - 1}/{len(DATA)}", "starts one byte early"),
        (f"bytes 1001-{len(DATA) - 1}/{len(DATA)}", "starts one byte late"),
        (f"bytes 1000-{len(DATA) - 1}/{len(DATA) + 1}", "wrong total"),
        (f"bytes 1000-{len(DATA) - 2}/{len(DATA)}", "stops short of the end"),
        (f"bytes 1000-{len(DATA) - 1}/*", "unknown total"),
        ("garbage", "unparseable"),
    ],
)
async def test_206_with_wrong_content_range(tmp_path: Path, content_range: str, why: str) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = content_answer(request)
        assert answer.status_code == 206
        answer.headers["Content-Range"] = content_range
        return answer

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "bad_content_range", why
    assert dest.read_bytes() == before


async def test_206_without_range_asked(tmp_path: Path) -> None:
    dest = tmp_path / "new.part"

    def handler(request: httpx.Request) -> httpx.Response:
        assert "range" not in request.headers
        return httpx.Response(
            206,
            headers={"Content-Range": f"bytes 0-{len(DATA) - 1}/{len(DATA)}", "ETag": ETAG},
            content=DATA,
        )

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "unexpected_status"
    assert not dest.exists()


@pytest.mark.parametrize("status", [200, 206])
async def test_html_page_instead_of_bytes(tmp_path: Path, status: int) -> None:
    dest, before = partial(tmp_path)
    page = b"<html><body>Please log in to the proxy</body></html>"

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(DATA))}
        if status == 206:
            headers["Content-Range"] = f"bytes 1000-{len(DATA) - 1}/{len(DATA)}"
            headers["Content-Length"] = str(len(DATA) - 1000)
        return httpx.Response(status, headers=headers, content=page)

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError, match="web page") as info:
            await download(client, dest, content_type="application/pdf")
    assert info.value.code == "html_page"
    assert dest.read_bytes() == before


async def test_html_file_that_is_html(tmp_path: Path) -> None:
    """A working paper that *is* an HTML file downloads normally."""
    dest = tmp_path / "report.html.part"

    def handler(request: httpx.Request) -> httpx.Response:
        return content_answer(request, extra={"Content-Type": "text/html"})

    async with make_client(handler) as client:
        result = await download(client, dest, content_type="text/html; charset=utf-8")
    assert dest.read_bytes() == DATA
    assert result.sha256 == SHA


async def test_200_with_wrong_content_length(tmp_path: Path) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Length": str(len(DATA) + 1), "ETag": '"new"'}, content=DATA
        )

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "bad_content_length"
    assert dest.read_bytes() == before


async def test_206_with_content_length_not_matching_range(tmp_path: Path) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        return content_answer(request, extra={"Content-Length": "5"})

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "bad_content_length"
    assert dest.read_bytes() == before


async def test_body_longer_than_announced_on_fresh_file(tmp_path: Path) -> None:
    dest = tmp_path / "fresh.part"

    def handler(request: httpx.Request) -> httpx.Response:
        # Claims the pinned size, then keeps sending (httpx does not police
        # this for a mock; h11 would for a real socket).
        return httpx.Response(
            200, headers={"Content-Length": str(len(DATA)), "ETag": ETAG}, content=DATA + b"x" * 10
        )

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest, chunk_size=8192)
    assert info.value.code == "too_many_bytes"
    assert not dest.exists()


async def test_body_longer_than_announced_when_resuming(tmp_path: Path) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = content_answer(request)
        assert answer.status_code == 206
        return httpx.Response(
            206, headers=answer.headers, content=DATA[1000:] + b"trailing junk from a proxy"
        )

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest, chunk_size=8192)
    assert info.value.code == "too_many_bytes"
    assert dest.read_bytes() == before


async def test_weak_etag_on_a_full_answer_is_accepted_and_not_reported(tmp_path: Path) -> None:
    """Express and Rails send weak ETags by default; the pinned sha256 decides."""
    dest = tmp_path / "fresh.part"
    starts: list[DownloadStart] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert "if-range" not in request.headers
        return content_answer(request, etag='W/"v1-abc"')

    async with make_client(handler) as client:
        result = await download(client, dest, etag=None, on_start=starts.append)
    assert dest.read_bytes() == DATA
    assert result.matches(len(DATA), SHA)
    # Only strong validators are reported, so the engine never stores a weak one.
    assert starts == [DownloadStart(status=200, offset=0, etag=None)]
    assert result.etag is None


@pytest.mark.parametrize("stored", ['W/"v1-abc"', None])
async def test_weak_etag_resumes_by_range_alone(tmp_path: Path, stored: str | None) -> None:
    """A weak (or no) stored validator: Range without If-Range; a fitting 206 is appended."""
    dest, _ = partial(tmp_path, 7000)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return content_answer(request, etag='W/"v1-abc"')

    async with make_client(handler) as client:
        result = await download(client, dest, etag=stored)
    (request,) = seen
    assert request.headers["range"] == "bytes=7000-"
    assert "if-range" not in request.headers
    assert (result.status, result.offset, result.received) == (206, 7000, len(DATA) - 7000)
    assert result.etag is None
    assert dest.read_bytes() == DATA
    assert result.matches(len(DATA), SHA)


async def test_weak_etag_on_a_206_after_a_strong_one(tmp_path: Path) -> None:
    """The server switched to weak ETags between attempts: the range still fits, so it is kept."""
    dest, _ = partial(tmp_path, 7000)
    starts: list[DownloadStart] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["if-range"] == ETAG
        answer = content_answer(request)  # honours If-Range with the strong ETag
        assert answer.status_code == 206
        answer.headers["ETag"] = 'W/"something-else"'
        return answer

    async with make_client(handler) as client:
        result = await download(client, dest, on_start=starts.append)
    assert starts == [DownloadStart(status=206, offset=7000, etag=None)]
    assert dest.read_bytes() == DATA
    assert result.matches(len(DATA), SHA)


async def test_206_with_other_etag(tmp_path: Path) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        # A broken cache: ignores If-Range and serves a range of something else.
        answer = content_answer(request)
        answer.headers["ETag"] = '"v2-other"'
        return answer

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "etag_mismatch"
    assert dest.read_bytes() == before


@pytest.mark.parametrize("resume", [False, True])
async def test_repr_digest_not_the_pinned_version(tmp_path: Path, resume: bool) -> None:
    dest, before = partial(tmp_path) if resume else (tmp_path / "fresh.part", None)
    other = hashlib.sha256(b"another version").digest()

    def handler(request: httpx.Request) -> httpx.Response:
        answer = content_answer(request)
        answer.headers["Repr-Digest"] = "sha-256=:" + base64.b64encode(other).decode() + ":"
        return answer

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "digest_mismatch"
    if before is None:
        assert not dest.exists()
    else:
        assert dest.read_bytes() == before


async def test_encoded_content_is_refused(tmp_path: Path) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "identity"
        answer = content_answer(request)
        answer.headers["Content-Encoding"] = "gzip"
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=gzip.compress(answer.content)
        )

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "bad_encoding"
    assert dest.read_bytes() == before


async def test_redirect_is_not_followed(tmp_path: Path) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://sso.example/login"})

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError, match=r"sso\.example") as info:
            await download(client, dest)
    assert info.value.code == "unexpected_redirect"
    assert dest.read_bytes() == before


@pytest.mark.parametrize("content_range", ["bytes */999", None, "bytes 0-1/102400"])
async def test_416_that_does_not_fit(tmp_path: Path, content_range: str | None) -> None:
    dest, before = partial(tmp_path, len(DATA))

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Range": content_range} if content_range else {}
        return httpx.Response(416, headers=headers)

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            await download(client, dest)
    assert info.value.code == "bad_content_range"
    assert dest.read_bytes() == before


# -- downloads: the good paths, and cut-off bodies ------------------------------


async def test_resume_sends_range_and_if_range(tmp_path: Path) -> None:
    dest, _ = partial(tmp_path, 4096)
    seen: list[httpx.Request] = []
    starts: list[DownloadStart] = []
    deltas: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return content_answer(request)

    async with make_client(handler) as client:
        result = await download(client, dest, progress=deltas.append, on_start=starts.append)
    (request,) = seen
    assert request.headers["range"] == "bytes=4096-"
    assert request.headers["if-range"] == ETAG
    assert request.headers["authorization"] == "Bearer tok"
    assert request.url.path == "/api/v1/files/f1/versions/1/content"
    assert starts == [DownloadStart(status=206, offset=4096, etag=ETAG)]
    assert sum(deltas) == len(DATA) - 4096
    assert dest.read_bytes() == DATA
    assert result.matches(len(DATA), SHA)
    assert (result.status, result.offset, result.received) == (206, 4096, len(DATA) - 4096)


async def test_partial_longer_than_the_file_starts_over(tmp_path: Path) -> None:
    dest = tmp_path / "f.part"
    dest.write_bytes(DATA + b"extra")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return content_answer(request)

    async with make_client(handler) as client:
        result = await download(client, dest)
    assert "range" not in seen[0].headers
    assert dest.read_bytes() == DATA
    assert result.status == 200


async def test_stale_etag_gets_a_full_answer(tmp_path: Path) -> None:
    dest = tmp_path / "f.part"
    dest.write_bytes(b"\xff" * 5000)  # a prefix of some older representation
    starts: list[DownloadStart] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return content_answer(request, etag='"v1-new"')

    async with make_client(handler) as client:
        result = await download(client, dest, etag='"v1-old"', on_start=starts.append)
    assert starts == [DownloadStart(status=200, offset=0, etag='"v1-new"')]
    assert dest.read_bytes() == DATA
    assert result.etag == '"v1-new"'


@pytest.mark.parametrize(
    "error",
    [httpx.ReadError("connection reset by peer"), httpx.RemoteProtocolError("closed"), None],
)
async def test_cut_off_body_keeps_the_partial_and_resumes(
    tmp_path: Path, error: Exception | None
) -> None:
    dest = tmp_path / "f.part"
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        answer = content_answer(request)
        if calls == 1:
            return httpx.Response(
                200, headers=answer.headers, stream=CutStream(DATA, 30_000, error)
            )
        return answer

    async with make_client(handler) as client:
        with pytest.raises(IncompleteBody) as info:
            await download(client, dest)
        assert info.value.received == 30_000
        assert info.value.expected == len(DATA)
        assert isinstance(info.value, NetworkError)
        assert dest.read_bytes() == DATA[:30_000]
        result = await download(client, dest)
    assert result.status == 206
    assert dest.read_bytes() == DATA
    assert result.sha256 == SHA


@pytest.mark.parametrize("extra", [b"", b"one byte too many"])
async def test_200_without_content_length_is_counted(tmp_path: Path, extra: bytes) -> None:
    """A re-chunking proxy may drop Content-Length; the pinned size still rules."""
    dest = tmp_path / "f.part"

    def handler(request: httpx.Request) -> httpx.Response:
        body = DATA + extra
        stream = CutStream(body, len(body), None)
        return httpx.Response(200, headers={"ETag": ETAG}, stream=stream)

    async with make_client(handler) as client:
        if extra:
            with pytest.raises(ProtocolError) as info:
                await download(client, dest)
            assert info.value.code == "too_many_bytes"
            assert not dest.exists()
        else:
            result = await download(client, dest)
            assert result.matches(len(DATA), SHA)


async def test_read_timeout_mid_body(tmp_path: Path) -> None:
    dest = tmp_path / "f.part"

    def handler(request: httpx.Request) -> httpx.Response:
        answer = content_answer(request)
        stream = CutStream(DATA, 10_000, httpx.ReadTimeout("timed out"))
        return httpx.Response(200, headers=answer.headers, stream=stream)

    async with make_client(handler) as client:
        with pytest.raises(NetworkError, match="timed out"):
            await download(client, dest)
    assert dest.read_bytes() == DATA[:10_000]


async def test_empty_file(tmp_path: Path) -> None:
    dest = tmp_path / "empty.part"
    empty_sha = hashlib.sha256(b"").hexdigest()

    def handler(request: httpx.Request) -> httpx.Response:
        assert "range" not in request.headers
        return content_answer(request, data=b"")

    async with make_client(handler) as client:
        result = await download(client, dest, expected_size=0, expected_sha256=empty_sha)
    assert dest.read_bytes() == b""
    assert result.matches(0, empty_sha)


# -- JSON endpoints --------------------------------------------------------------


async def test_bad_json_and_html_hint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<html>")

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError, match="HTML page") as info:
            await client.me()
    assert info.value.code == "bad_json"


async def test_wrong_shape_names_the_field() -> None:
    # A field the export needs (optional ones are tolerated: see the model tests).
    def handler(request: httpx.Request) -> httpx.Response:
        item = {"id": 7, "name": "P", "code": "A-1", "updatedAt": TS}
        return httpx.Response(200, json={"items": [item], "nextCursor": None})

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError, match=r"projects.items\[0\].id") as info:
            [p async for p in client.iter_projects()]
    assert info.value.code == "bad_field"
    assert not info.value.transient


@pytest.mark.parametrize("mode", ["repeat", "cycle", "empty-forever"])
async def test_cursor_loops_are_stopped(mode: str) -> None:
    counter = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal counter
        counter += 1
        cursor = request.url.params.get("cursor")
        if mode == "repeat":
            nxt = "same"
        elif mode == "cycle":
            nxt = {None: "a", "a": "b", "b": "a"}[cursor]
        else:
            nxt = f"c{counter}"
        items = (
            []
            if mode == "empty-forever"
            else [{"kind": "folder", "id": f"d{counter}", "name": "x", "updatedAt": TS}]
        )
        return httpx.Response(200, json={"items": items, "nextCursor": nxt})

    async with make_client(handler) as client:
        with pytest.raises(ProtocolError) as info:
            [c async for c in client.iter_children("p1")]
    assert info.value.code == "cursor_loop"
    assert counter <= MAX_EMPTY_PAGES + 1


async def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 120, usegmt=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            headers={"Retry-After": when},
            json={"error": {"code": "too_many_requests", "message": "slow down"}},
        )

    async with make_client(handler) as client:
        with pytest.raises(RateLimited) as info:
            await client.get_file("f1")
    assert info.value.retry_after is not None
    assert 100 < info.value.retry_after <= 120
    assert info.value.code == "too_many_requests"


async def test_gateway_page_is_a_server_error(tmp_path: Path) -> None:
    dest, before = partial(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            502, headers={"Content-Type": "text/html"}, content=b"<h1>502</h1>" * 10_000
        )

    async with make_client(handler) as client:
        with pytest.raises(ServerError) as info:
            await download(client, dest)
    assert (info.value.status, info.value.code, info.value.retry_after) == (502, "http_502", None)
    assert dest.read_bytes() == before


async def test_base_url_prefix_and_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "nextCursor": None})

    transport = httpx.MockTransport(handler)
    async with ApiClient("https://wp.test/gateway/wp", token="t", transport=transport) as client:
        [p async for p in client.iter_projects()]
    assert str(seen[0].url) == "https://wp.test/gateway/wp/api/v1/projects"
    assert seen[0].headers["user-agent"].startswith("manuscript-gui/")


async def test_ids_are_quoted_as_one_path_segment() -> None:
    paths: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path)
        return httpx.Response(200, json={"items": [], "nextCursor": None})

    async with make_client(handler) as client:
        [c async for c in client.iter_children("p/../x", "a?b#c", limit=5)]
    assert paths == [b"/api/v1/projects/p%2F..%2Fx/folders/a%3Fb%23c/children?limit=5"]


@pytest.mark.parametrize("bad_id", [".", "..", ""])
async def test_dot_segment_ids_are_refused_before_sending(tmp_path: Path, bad_id: str) -> None:
    """httpx removes dot segments: ``/files/../versions/1/content`` is another path."""
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.raw_path)
        return httpx.Response(200, json={"items": [], "nextCursor": None})

    dest = tmp_path / "file.part"
    async with make_client(handler) as client:
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: client.get_file(bad_id),
            lambda: client.children_page("p1", bad_id),
            lambda: client.children_page(bad_id),
            lambda: client.download_to(
                bad_id, 1, dest, expected_size=len(DATA), expected_sha256=SHA
            ),
        ]
        for call in calls:
            with pytest.raises(ValueError, match="not a usable id"):
                await call()
        # Dots inside an id are no dot segment: quoted as they are, and sent.
        await client.children_page("p1", "...")
    assert sent == [b"/api/v1/projects/p1/folders/.../children"]
    assert not dest.exists()


def _page_of(n_items: int, cursor: str | None) -> Page[str]:
    return Page(items=tuple(f"item{i}" for i in range(n_items)), next_cursor=cursor)


def test_page_guard_follows_fresh_cursors_to_the_end() -> None:
    guard = PageGuard("the list")
    pages = [_page_of(2, "a"), _page_of(0, "b"), _page_of(1, "c"), _page_of(0, None)]
    assert [guard.next_cursor(p) for p in pages] == ["a", "b", "c", None]


@pytest.mark.parametrize(
    "cursors",
    [["a", "a"], ["a", "b", "c", "b"], ["x", "y", "x"]],
    ids=["same", "cycle", "back"],
)
def test_page_guard_stops_a_cursor_sent_twice(cursors: list[str]) -> None:
    guard = PageGuard("/prj/D 实质性程序")
    for cursor in cursors[:-1]:
        assert guard.next_cursor(_page_of(3, cursor)) == cursor
    with pytest.raises(ProtocolError, match=r"^/prj/D 实质性程序: the server sent cursor") as info:
        guard.next_cursor(_page_of(3, cursors[-1]))
    assert info.value.code == "cursor_loop"
    assert not info.value.transient


def test_page_guard_stops_endless_empty_pages() -> None:
    guard = PageGuard("projects", max_empty_pages=5)
    for i in range(4):
        guard.next_cursor(_page_of(0, f"e{i}"))
    guard.next_cursor(_page_of(1, "items again"))  # a page with items restarts the count
    for i in range(4):
        guard.next_cursor(_page_of(0, f"f{i}"))
    with pytest.raises(ProtocolError, match="5 empty pages in a row") as info:
        guard.next_cursor(_page_of(0, "f4"))
    assert info.value.code == "cursor_loop"
    assert PageGuard("x").next_cursor(_page_of(0, None)) is None
    with pytest.raises(ValueError, match="at least 1"):
        PageGuard("x", max_empty_pages=0)


async def test_no_request_without_a_token(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"request sent without a session: {request.url}")

    async with make_client(handler, token=None) as client:
        with pytest.raises(Unauthorized):
            await client.me()
        with pytest.raises(Unauthorized):
            await download(client, tmp_path / "x.part")
        await client.logout()  # nothing to revoke, nothing sent


async def test_logout_forgets_the_token_even_if_already_dead() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(401, json={"error": {"code": "token_expired", "message": "x"}})

    async with make_client(handler) as client:
        await client.logout()
        assert client.token is None
        with pytest.raises(Unauthorized):
            await client.me()
    assert seen == ["/api/v1/auth/logout"]


async def test_login_body_and_token_use() -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/login"):
            assert "authorization" not in request.headers
            bodies.append(json.loads(request.content))
            return httpx.Response(
                200,
                json={
                    "token": "T1",
                    "expiresAt": TS,
                    "user": {"id": "u", "name": "n"},
                    "userType": "manager",
                    "identities": [],
                },
            )
        assert request.headers["authorization"] == "Bearer T1"
        return httpx.Response(
            200, json={"user": {"id": "u", "name": "n"}, "userType": "manager", "identities": []}
        )

    async with make_client(handler, token=None) as client:
        result = await client.login("demo", "pw", "manager")
        assert result.user_type == "manager"
        assert client.token == "T1"
        me = await client.me()
    assert me.user_type == "manager"
    assert bodies == [{"username": "demo", "password": "pw", "userType": "manager"}]


def test_constructor_rejects_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="http"):
        ApiClient("ftp://wp.test")
    with pytest.raises(ValueError, match="CA bundle"):
        ApiClient("https://wp.test", ca_bundle=tmp_path / "missing.pem")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValueError, match="CA bundle"):
        ApiClient("https://wp.test", ca_bundle=bad)


async def test_many_concurrent_downloads_do_not_leak(tmp_path: Path) -> None:
    """Errors and successes interleaved: every response and file is closed
    (pytest turns a ResourceWarning into a failure)."""

    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.split("/")[4][1:])
        if n % 3 == 0:
            return httpx.Response(
                404, json={"error": {"code": "version_not_found", "message": "x"}}
            )
        if n % 3 == 1:
            return httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<html>")
        return content_answer(request)

    async with make_client(handler) as client:

        async def one(n: int) -> object:
            try:
                return await client.download_to(
                    f"f{n}", 1, tmp_path / f"{n}.part", expected_size=len(DATA), expected_sha256=SHA
                )
            except Exception as exc:
                return exc

        results = await asyncio.gather(*(one(n) for n in range(30)))
    assert sum(1 for r in results if not isinstance(r, Exception)) == 10
