"""Secrets: the API key never shows up in reprs, errors, logs (ours, aiohttp's, the simulator's)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.hardening._util import VALID_FIELDS, pod_body, serve
from yotta_async import (
    APITimeoutError,
    AuthenticationError,
    Backoff,
    ConfigurationError,
    PodCreateRequest,
    PodStatus,
    WatchPolicy,
    YottaClient,
    YottaError,
    __version__,
)
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator

KEY = "yk-7Qm2Xv9LrT4pW8nB3sD6fH1jK5"
WRONG_KEY = "yk-WRONG-c5Fz0Kq7Yh2Ue9RaM3"
WINDOW = 10  # any 10 consecutive characters of a key count as a leak


def leaks(text: str, secrets: tuple[str, ...] = (KEY, WRONG_KEY)) -> list[str]:
    """The pieces of ``secrets`` found in ``text``."""
    found = []
    for secret in secrets:
        for i in range(len(secret) - WINDOW + 1):
            piece = secret[i : i + WINDOW]
            if piece in text:
                found.append(piece)
                break
    return found


def test_the_leak_detector_detects() -> None:
    assert leaks(f"header: {KEY[3:15]}...") and leaks(repr({"X-Api-Key": WRONG_KEY}))
    assert not leaks("yk-" + "x" * 40)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of every logger, at DEBUG, formatted with tracebacks."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    names = [
        "yotta_async",
        "yotta_async.testing.access",
        "aiohttp",
        "aiohttp.access",
        "aiohttp.server",
        "aiohttp.client",
        "aiohttp.web",
        "aiohttp.internal",
        "asyncio",
    ]
    saved = {name: logging.getLogger(name).level for name in names}
    saved_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


class Errors:
    """Collects every error the lifecycle provokes, with everything a user might print."""

    def __init__(self) -> None:
        self.seen: list[BaseException] = []

    def add(self, exc: BaseException) -> None:
        self.seen.append(exc)

    def text(self) -> str:
        parts = []
        for exc in self.seen:
            parts.append("".join(traceback.format_exception(exc)))  # causes, context and notes too
            chain: BaseException | None = exc
            while chain is not None:
                parts += [str(chain), repr(chain), repr(getattr(chain, "__notes__", None))]
                if isinstance(chain, YottaError):
                    parts.append(repr(vars(chain)))
                chain = chain.__cause__ or chain.__context__
        return "\n".join(parts)

    async def expect(self, kind: type[BaseException], coro: Any) -> None:
        with pytest.raises(kind) as info:
            await coro
        self.add(info.value)


async def full_lifecycle(sim: Simulator, clock: ManualClock, errors: Errors) -> list[str]:
    """Create, wait, pause, resume, delete, bulk and group work, plus every kind of failure."""
    texts: list[str] = []
    client = YottaClient(
        KEY, sim.base_url, clock=clock.now, sleep=clock.sleep, backoff=Backoff(0.5, 2.0), max_retries=6
    )
    async with client:
        client.pods.watch_policy = WatchPolicy(floor=1.0, maximum=5.0)
        texts += [repr(client), str(client), repr(client._session), repr(client.pods), repr(sim)]
        texts += [repr(sim._state), repr(sim.app), repr(sim.faults), repr(sim.store)]
        pod = await client.pods.create(**VALID_FIELDS, env={"MODE": "train"}, expose=[8888])
        pod = await client.pods.wait_until_running(pod.id, timeout=600)
        texts += [repr(pod), str(await client.pods.get(pod.id))]
        texts += [repr(p) for p in await client.pods.list(statuses=[PodStatus.RUNNING])]
        await client.pods.pause(pod.id)
        await errors.expect(YottaError, client.pods.resume(pod.id))  # still PAUSING: wrong state
        await client.pods.wait_until_paused(pod.id)
        await client.pods.resume(pod.id)
        await client.pods.wait_until_running(pod.id)
        await errors.expect(YottaError, client.pods.get(424242424242))
        await errors.expect(YottaError, client.pods.create(**{**VALID_FIELDS, "gpu_count": 3}))
        await errors.expect(YottaError, client.pods.wait_until_paused(pod.id, timeout=5))
        await client.pods.delete(pod.id)
        await client.pods.wait_until_terminated(pod.id)

        # bulk work and a group under a fault plan: retries, 429 cooldowns, lost replies
        sim.faults = FaultPlan.everywhere(
            error_500=0.1, error_502=0.1, rate_limit=0.05, retry_after=0.5, reset=0.05, lost_500=0.05, seed=7
        )
        request = PodCreateRequest(**VALID_FIELDS)
        results = await client.pods.create_many([request] * 6, concurrency=3)
        for r in results:
            if isinstance(r, BaseException):
                errors.add(r)
        ids = [r.id for r in results if not isinstance(r, BaseException)]
        outcome = await client.pods.wait_all(ids, timeout=900, return_exceptions=True)
        for r in outcome:
            if isinstance(r, BaseException):
                errors.add(r)
        async with client.pods.group(on_exit="delete", label="secrets") as group:
            await group.launch(request, count=3, wait=True)
        for failure in await client.pods.delete_many(ids):
            if failure is not None:
                errors.add(failure)
        sim.faults = FaultPlan()

        # a group that fails inside its block cleans up and re-raises
        async def failing_group() -> None:
            async with client.pods.group(on_exit="delete") as group:
                await group.launch(request, count=2)
                raise RuntimeError("boom inside the group")

        await errors.expect(RuntimeError, failing_group())

    await errors.expect(ConfigurationError, client.pods.list())  # a closed client
    async with YottaClient(WRONG_KEY, sim.base_url, max_retries=0) as wrong:
        texts.append(repr(wrong))
        await errors.expect(AuthenticationError, wrong.pods.list())
        await errors.expect(AuthenticationError, wrong.pods.create(**VALID_FIELDS))

    # a real (short) timeout: the simulator holds the reply longer than the client waits
    sim.faults = FaultPlan({"GET /v2/pods": FaultRule(latency=1.0, latency_seconds=0.3)})
    async with YottaClient(KEY, sim.base_url, timeout=0.1, max_retries=0) as impatient:
        await errors.expect(APITimeoutError, impatient.pods.list())
    sim.faults = FaultPlan()

    for args in [("https://api.yottalabs.ai", KEY), (KEY,), (f"{KEY} ",)]:
        try:
            YottaClient(*args, base_url="nope") if len(args) == 1 else YottaClient(*args)
        except ConfigurationError as exc:
            errors.add(exc)
    return texts


async def test_no_secret_anywhere_during_a_full_lifecycle(
    captured_logs: io.StringIO, capfd: pytest.CaptureFixture[str]
) -> None:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)  # asyncio's own debug logging (slow callbacks, task reprs) is captured too
    loop.slow_callback_duration = 0.05
    errors = Errors()
    clock = ManualClock()
    try:
        async with Simulator(api_key=KEY, clock=clock, seed=3) as sim:
            texts = await full_lifecycle(sim, clock, errors)
    finally:
        loop.set_debug(False)
    out, err = capfd.readouterr()
    logs = captured_logs.getvalue()
    # positive controls: the capture really saw requests, retries and simulator access lines
    assert "yotta_async.testing.access" in logs and '"GET /v2/pods' in logs
    assert "retrying" in logs
    assert len(errors.seen) >= 10
    everything = {
        "logs": logs,
        "stdout": out,
        "stderr": err,
        "errors": errors.text(),
        "reprs": "\n".join(texts),
    }
    found = {where: leaks(text) for where, text in everything.items() if leaks(text)}
    assert not found, f"key material leaked: {found}"


async def test_swapped_arguments_do_not_echo_the_key() -> None:
    with pytest.raises(ConfigurationError) as info:
        YottaClient("https://api.yottalabs.ai", KEY)
    assert not leaks(str(info.value)) and "swapped" in str(info.value)


async def test_user_agent_and_headers_carry_the_key_only_in_x_api_key() -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, str(request.rel_url), dict(request.headers)))
        body = (
            b'{"code":10000,"data":[]}'
            if request.path == "/v2/pods" and request.method == "GET"
            else pod_body()
        )
        return web.Response(body=body, content_type="application/json")

    async with serve(handler) as url, YottaClient(KEY, url) as client:
        await client.pods.list(regions=["us-east-1"], statuses=["RUNNING"])
        await client.pods.create(**VALID_FIELDS)
        await client.pods.get(5)
        await client.pods.pause(5)
        await client.pods.resume(5)
        await client.pods.delete(5)
    assert len(seen) == 6
    for method, target, headers in seen:
        assert not leaks(target), f"{method} {target}"
        user_agent = headers["User-Agent"]
        assert re.fullmatch(r"yotta-async/[0-9A-Za-z.+-]+( [\x20-\x7e]*)?", user_agent), user_agent
        assert user_agent.startswith(f"yotta-async/{__version__}")
        carrying = [name for name, value in headers.items() if leaks(value)]
        assert carrying == ["X-Api-Key"], carrying
        assert headers["X-Api-Key"] == KEY


# --- the CLI, as a user runs it: subprocesses against a simulator process --------------------

CLI = [sys.executable, "-m", "yotta_async.cli"]
SPEC = ["--image", "nvidia/cuda:12.1.0-base-ubuntu22.04", "--gpu-type", "NVIDIA_H100_80G", "--gpu-count", "1"]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOTTA_") and k != "COLUMNS"}
    env.update(HOME=str(home), **extra)
    return env


# The simulator process, with every logger at DEBUG on stderr (it configures no logging itself).
SIM_MAIN = (
    "import logging, sys; logging.basicConfig(level=logging.DEBUG, format='%(name)s %(message)s'); "
    "from yotta_async.testing._serve import main; sys.exit(main(sys.argv[1:]))"
)


class SimProcess:
    """``yotta_async.testing`` served as a process with ``KEY``, logging to a file."""

    def __init__(self, tmp_path: Path) -> None:
        self.log_path = tmp_path / "simulator.log"
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SIM_MAIN, "--port", "0", "--api-key", KEY, "--time-scale", "0.001"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=cli_env(tmp_path),
            )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url

    def stop(self) -> str:
        """SIGINT, as a user would; returns everything the process logged."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            assert self.proc.wait(timeout=15) == 0
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.log_path.read_text()


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[SimProcess]:
    sim = SimProcess(tmp_path)
    try:
        yield sim
    finally:
        sim.stop()


def test_cli_output_never_shows_the_key(sim_process: SimProcess, tmp_path: Path) -> None:
    url = sim_process.url
    transcript: list[str] = []

    def run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [*CLI, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env or cli_env(tmp_path, YOTTA_API_KEY=KEY, YOTTA_BASE_URL=url),
        )
        transcript.append(f"{result.stdout}\n{result.stderr}")  # output only: the args may hold a key
        assert result.returncode == code, (args[:4], transcript[-1])
        return result.stdout

    pod = json.loads(run("--debug", "-o", "json", "pods", "create", "--name", "s-0", *SPEC, "--wait"))
    pid = str(pod["id"])
    run("--debug", "pods", "list")
    run("--debug", "-o", "json", "pods", "get", pid)
    run("--debug", "pods", "pause", pid)
    run("--debug", "pods", "pause", pid, code=1)  # PAUSING already: wrong state
    run("--debug", "pods", "wait", pid, "--until", "paused")
    run("--debug", "pods", "get", "4242424242", code=1)  # not found
    run("--debug", "pods", "resume", pid)
    run("--debug", "pods", "delete", pid)
    run("--debug", "launch", "--count", "2", "--wait", "--then", "delete", "--name", "s-l", *SPEC)
    run("--debug", "sweep", "--dry-run")
    run("pods", "create", "--name", "s-bad", *SPEC[:-1], "3", code=2)  # gpu count not a power of two
    bare = cli_env(tmp_path)
    run("--debug", "--api-key", KEY, "--base-url", url, "pods", "list", env=bare)
    run("--debug", "--api-key", WRONG_KEY, "--base-url", url, "pods", "list", env=bare, code=1)
    run("--debug", "--api-key", KEY, "--base-url", "http://127.0.0.1:9", "pods", "list", env=bare, code=1)
    run("--debug", "--base-url", KEY, "pods", "list", env=cli_env(tmp_path, YOTTA_API_KEY=KEY), code=2)
    (tmp_path / ".yotta").mkdir()
    (tmp_path / ".yotta" / "config").write_text(f"[default]\napi_key = {KEY}\nbase_url = {url}\n")
    run("--debug", "pods", "list", env=bare)

    text = "\n".join(transcript)
    assert "GET /v2/pods" in text and pid in text  # the capture saw requests and results
    assert "Traceback" in text  # --debug really showed tracebacks
    found = leaks(text)
    assert not found, [t for t in transcript if leaks(t)][:2]
    log = sim_process.stop()
    assert '"GET /v2/pods' in log  # the simulator's access log is in there...
    assert not leaks(log)  # ...and it never shows a key, not even the wrong one


@pytest.mark.parametrize(
    ("status", "content_type"),
    [(400, "application/json"), (200, "application/json"), (502, "text/html"), (500, "text/plain")],
)
async def test_a_server_that_echoes_the_key_does_not_put_it_in_errors(status: int, content_type: str) -> None:
    # A misbehaving server or proxy that reflects the request headers into its error body
    # must not smuggle the key into exception messages, snippets or the CLI's error line.
    key = "sk-echoed-" + "e" * 30

    async def echo(request: web.Request) -> web.Response:
        seen = request.headers.get("X-Api-Key", "")
        if content_type == "application/json":
            body = json.dumps({"code": 10001, "message": f"bad key {seen}", "data": {"k": seen}})
        else:
            body = f"<html>upstream said: X-Api-Key: {seen}</html>"
        return web.Response(status=status, text=body, content_type=content_type)

    async with serve(echo) as base, YottaClient(key, base, max_retries=0) as client:
        with pytest.raises(YottaError) as info:
            await client.pods.get(1)
    rendered = "".join(traceback.format_exception(info.value)) + repr(info.value.__dict__)
    assert key not in rendered
    assert "[redacted]" in rendered
