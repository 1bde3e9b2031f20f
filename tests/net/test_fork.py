"""ApiClient.fork: a second pool on the same session (the engine's per-worker clients)."""

from __future__ import annotations

import pytest

from manuscript_gui.net import ApiClient, Unauthorized
from manuscript_gui.reference_server import ServerHandle


async def test_fork_shares_the_session_but_not_the_pool(ref_server: ServerHandle) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        fork = client.fork()
        try:
            assert fork.token == client.token
            me = await fork.me()
            assert me.user.id == "u-demo"
        finally:
            await fork.aclose()
        # Closing the fork leaves the original working.
        assert (await client.me()).user.id == "u-demo"


async def test_fork_of_a_logged_out_client_has_no_session(ref_server: ServerHandle) -> None:
    async with ApiClient(ref_server.base_url) as client:
        fork = client.fork()
        try:
            with pytest.raises(Unauthorized):
                await fork.me()
        finally:
            await fork.aclose()
