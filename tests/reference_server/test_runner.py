"""Starting and stopping: thread handle, in-loop server, loopback rule, TLS."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from manuscript_gui.reference_server import (
    ReferenceServer,
    ServerConfigError,
    ServerHandle,
    is_loopback,
    start_in_thread,
)
from tests.fixtures_server import TINY_DEMO, Admin

from .helpers import client, content_url, token_for, walk


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("wp.example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "example.com"])
def test_admin_refused_off_loopback(tmp_path: Path, host: str) -> None:
    with pytest.raises(ServerConfigError, match="loopback"):
        start_in_thread(tmp_path / "data", demo=TINY_DEMO, admin=True, host=host)
    # Refused before anything was written.
    assert not (tmp_path / "data").exists()


def test_handle_basics(tmp_path: Path) -> None:
    handle = start_in_thread(tmp_path / "data", demo=TINY_DEMO)
    with handle:
        assert handle.base_url == f"http://127.0.0.1:{handle.port}"
        assert handle.port > 0
        assert handle.data_dir == tmp_path / "data"
        assert handle.admin is False
        with client(handle.base_url, token_for(handle.base_url)) as c:
            assert c.get("/api/v1/me").status_code == 200
    handle.stop()  # idempotent
    with pytest.raises(httpx.ConnectError), client(handle.base_url) as c:
        c.get("/api/v1/me")


def test_port_in_use_is_raised_in_caller(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            start_in_thread(tmp_path / "data", demo=TINY_DEMO, port=port)


def test_stop_with_download_in_flight(make_server: Callable[..., ServerHandle]) -> None:
    handle = make_server()
    admin = Admin(handle.base_url)
    made = admin.add_file("prj-1", ["slow"], "slow.bin", b"x" * 500_000)
    admin.faults(bandwidth_bps=50_000)
    token = token_for(handle.base_url)
    with client(handle.base_url, token) as c, c.stream("GET", content_url(made["id"], 1)) as r:
        assert r.status_code == 200
        handle.stop()  # must not hang for the 10 s the body would take


async def test_reference_server_in_running_loop(tmp_path: Path) -> None:
    async with ReferenceServer(tmp_path / "data", demo=TINY_DEMO, admin=True) as server:
        assert server.facts is not None
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as c:
            login = await c.post(
                "/api/v1/auth/login", json={"username": "demo", "password": "demo"}
            )
            assert login.status_code == 200
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            projects = (await c.get("/api/v1/projects", headers=headers)).json()["items"]
            assert [p["id"] for p in projects] != []
            assert (await c.get("/__admin__/faults")).status_code == 200


def test_ipv6_loopback(tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    with start_in_thread(tmp_path / "data", demo=TINY_DEMO, admin=True, host="::1") as handle:
        assert handle.base_url.startswith("http://[::1]:")
        assert Admin(handle.base_url).current_faults()["dropRate"] == 0


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    key_args = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    out_args = ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"]
    san = ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    subprocess.run(
        [openssl, "req", "-x509", *key_args, *out_args, *san], check=True, capture_output=True
    )
    return cert, key


def test_tls(tmp_path: Path, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    with start_in_thread(
        tmp_path / "data", demo=TINY_DEMO, admin=True, ssl_context=server_ctx
    ) as handle:
        assert handle.base_url.startswith("https://127.0.0.1:")
        base = handle.base_url
        with httpx.Client(base_url=base, verify=client_ctx, trust_env=False) as c:
            login = c.post("/api/v1/auth/login", json={"username": "demo", "password": "demo"})
            token = login.json()["token"]
            c.headers["Authorization"] = f"Bearer {token}"
            big = c.post(
                "/__admin__/projects/prj-1/files",
                json={"folders": [], "name": "tls.bin", "contentBase64": "QUJD" * 100_000},
            ).json()
            # TLS cannot sendfile: this goes through the chunked path.
            resp = c.get(content_url(big["id"], 1))
            assert resp.status_code == 200
            assert resp.content == b"ABC" * 100_000
            part = c.get(content_url(big["id"], 1), headers={"Range": "bytes=299990-"})
            assert part.content == (b"ABC" * 100_000)[299_990:]
            for _, item in walk(c, "prj-1")[:5]:
                data = c.get(content_url(item["id"], item["version"])).content
                assert len(data) == item["size"]
