"""The simulator as a separate process: ``python -m yotta_async.testing``."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp
import pytest


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_serves_then_exits_cleanly_on_signal(sig: signal.Signals) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "yotta_async.testing",
        "--port",
        "0",
        "--api-key",
        "proc-key",
        "--time-scale",
        "0.001",
        "--seed",
        "3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
        base_url = line.decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession(base_url, headers={"X-Api-Key": "proc-key"}) as http:
            body = {"name": "n", "image": "img", "gpuType": "NVIDIA_H100_80G", "gpuCount": 1}
            async with http.post("/v2/pods", json=body) as r:
                created = await r.json()
            assert created["code"] == 10000
            async with http.get(f"/v2/pods/{created['data']['id']}") as r:
                assert (await r.json())["data"]["id"] == created["data"]["id"]
            async with http.get("/v2/pods", headers={"X-Api-Key": "nope"}) as r:
                assert r.status == 401
        proc.send_signal(sig)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)
        assert proc.returncode == 0, stderr
        assert b"proc-key" not in stdout + stderr  # the key is never logged
        assert b"Traceback" not in stderr
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_bad_arguments_exit_with_usage_error() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "yotta_async.testing",
        "--port",
        "not-a-port",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 2 and b"--port" in stderr
