"""Environment proxies apply to real servers, never to loopback ones.

Two tiny HTTP/1.1 responders on 127.0.0.1 play "proxy" and "origin"; each
records the request lines it receives.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from manuscript_gui.net import ApiClient
from manuscript_gui.net.client import _is_loopback

ME = json.dumps({"user": {"id": "u", "name": "n"}, "userType": "auditor", "identities": []})


class Responder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Responder:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.lines.append(head.split(b"\r\n", 1)[0].decode())
        body = ME.encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()


async def test_env_proxy_used_for_remote_but_not_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Responder() as proxy, Responder() as origin:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")

        async with ApiClient("http://wp.example.invalid", token="t") as remote:
            assert not remote.is_loopback
            await remote.me()
        assert proxy.lines == ["GET http://wp.example.invalid/api/v1/me HTTP/1.1"]

        async with ApiClient(f"http://127.0.0.1:{origin.port}", token="t") as local:
            assert local.is_loopback
            await local.me()
        assert origin.lines == ["GET /api/v1/me HTTP/1.1"]
        assert len(proxy.lines) == 1


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("wp.localhost", True),
        ("10.0.0.1", False),
        ("wp.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback
