"""``Pod.is_ready``, ``Pod.ssh_endpoint``, ``parse_ssh_cmd`` and the TCP ``Prober``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest

from yotta_async import ExposePort, Pod, ValidationError, YottaClient
from yotta_async._client import DEFAULT_CAPACITY_ERROR_CODES
from yotta_async._probe import Prober, probe_tcp
from yotta_async.errors import ConfigurationError
from yotta_async.models import parse_ssh_cmd
from yotta_async.testing import CAPACITY_ERROR_CODE

SSH = ExposePort(port=22, protocol="SSH", host="h.example", proxy_port=30056, healthy=True)
WEB = ExposePort(port=8888, protocol="http", host="h.example", proxy_port=30057, healthy=False)


def pod(status: str = "RUNNING", *expose: ExposePort, ssh_cmd: str | None = None) -> Pod:
    return Pod(id=1, status=status, expose=list(expose), ssh_cmd=ssh_cmd)  # type: ignore[arg-type]


def test_ready_needs_running_and_every_selected_port_healthy() -> None:
    assert not pod("RUNNING", SSH, WEB).is_ready()
    assert pod("RUNNING", SSH, WEB).is_ready(["ssh"])
    assert pod("RUNNING", SSH, WEB).is_ready([22])
    assert not pod("RUNNING", SSH, WEB).is_ready([22, 8888])
    assert not pod("INITIALIZING", SSH).is_ready()
    assert not pod("PAUSED", SSH).is_ready(["ssh"])
    assert pod("RUNNING").is_ready()  # nothing exposed: RUNNING is all there is


@pytest.mark.parametrize("name", ["ssh", "SSH", "Ssh"])
def test_protocol_names_compare_in_any_case(name: str) -> None:
    lower = ExposePort(port=22, protocol="ssh", host="h", proxy_port=1, healthy=True)
    assert pod("RUNNING", lower).is_ready([name])
    assert pod("RUNNING", SSH).is_ready([name])


@pytest.mark.parametrize(
    "entry",
    [
        ExposePort(port=22, protocol="SSH"),  # right after create: {port, protocol} only
        ExposePort(port=22, protocol="SSH", host="h", proxy_port=1),  # healthy missing
        ExposePort(port=22, protocol="SSH", host="h", proxy_port=1, healthy=False),
        ExposePort(port=22, protocol="SSH", proxy_port=1, healthy=True),  # no host
        ExposePort(port=22, protocol="SSH", host="", proxy_port=1, healthy=True),
        ExposePort(port=22, protocol="SSH", host="h", healthy=True),  # no proxy port
    ],
)
def test_a_missing_field_is_not_ready(entry: ExposePort) -> None:
    assert not pod("RUNNING", entry).is_ready()
    assert pod("RUNNING", entry).unready_ports() == ["22/SSH"]


def test_unready_ports_names_what_is_missing() -> None:
    p = pod("RUNNING", SSH, WEB)
    assert p.unready_ports() == ["8888/http"]
    assert p.unready_ports(["ssh", 9000, "grpc"]) == ["9000", "grpc"]  # never exposed: never ready
    assert not p.is_ready([9000])


def test_ssh_endpoint_prefers_the_expose_entry() -> None:
    p = pod("RUNNING", WEB, SSH, ssh_cmd="ssh root@other -p 1")
    assert p.ssh_endpoint == ("h.example", 30056)
    lower = ExposePort(port=2222, protocol="ssh", host="x", proxy_port=7, healthy=False)
    assert pod("INITIALIZING", lower).ssh_endpoint == ("x", 7)  # an address, healthy or not


def test_ssh_endpoint_falls_back_to_ssh_cmd_then_none() -> None:
    bare = ExposePort(port=22, protocol="SSH")
    assert pod("RUNNING", bare, ssh_cmd="ssh root@pod-ip -p 10022").ssh_endpoint == ("pod-ip", 10022)
    assert pod("RUNNING", WEB).ssh_endpoint is None
    assert pod("RUNNING", ssh_cmd="").ssh_endpoint is None
    assert pod("RUNNING", ssh_cmd="not a command").ssh_endpoint is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("ssh root@pod-ip -p 10022", ("pod-ip", 10022)),
        ("ssh user@8hddaf7x.op1.yottalabs.ai -p 30056 -i private_key.pem",
         ("8hddaf7x.op1.yottalabs.ai", 30056)),
        ("ssh -L 8888:localhost:8888 -i k.pem user@h -p 30003", ("h", 30003)),
        ("ssh -p30035 root@127.0.0.1", ("127.0.0.1", 30035)),
        ("ssh root@192.168.1.100", ("192.168.1.100", 22)),
        ("/usr/bin/ssh -o StrictHostKeyChecking=no root@h -p 2", ("h", 2)),
        ("ssh root@127.0.0.1 -p 30035 -i <private key file>", ("127.0.0.1", 30035)),
        ("ssh root@h -p notaport", None),
        ("ssh root@h -p 70000", None),
        ("ssh -p 22", None),
        ("scp a b", None),
        ("ssh 'unbalanced", None),
        (None, None),
    ],
)
def test_parse_ssh_cmd(command: str | None, expected: tuple[str, int] | None) -> None:
    assert parse_ssh_cmd(command) == expected


# -- the prober --------------------------------------------------------------------------


@pytest.fixture
async def listener() -> AsyncIterator[int]:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_probe_connects_for_real(listener: int) -> None:
    assert await probe_tcp("127.0.0.1", listener, 2.0)


async def test_probe_refused_is_false() -> None:
    import socket

    with socket.socket() as bound:  # bound, not listening: the kernel refuses connects
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        assert not await probe_tcp("127.0.0.1", port, 2.0)


async def test_probe_timeout_is_false() -> None:
    hang = anyio.Event()

    async def never(host: str, port: int, timeout: float) -> bool:  # noqa: ASYNC109
        with anyio.move_on_after(timeout):
            await hang.wait()
            return True
        return False

    prober = Prober(timeout=0.01, connect=never)
    assert not await prober.reachable("h", 1)


async def test_prober_caps_concurrency_and_skips_unflagged_ports() -> None:
    gate = anyio.Event()
    seen: list[tuple[str, int]] = []

    async def slow(host: str, port: int, timeout: float) -> bool:  # noqa: ASYNC109
        seen.append((host, port))
        await gate.wait()
        return port % 2 == 0

    prober = Prober(concurrency=3, connect=slow)
    entries = [ExposePort(port=p, protocol="tcp", host="h", proxy_port=p, healthy=True) for p in range(10)]
    entries.append(ExposePort(port=99, protocol="tcp", host="h", proxy_port=99, healthy=False))
    result: list[str] = []

    async def run() -> None:
        result.extend(await prober.unreachable(pod("RUNNING", *entries)))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        for _ in range(50):  # let every probe task reach the limiter
            await anyio.lowlevel.checkpoint()
        assert prober.in_flight == 3  # the cap holds while the first three hang
        gate.set()
    assert prober.max_in_flight == 3 and prober.probes == 10
    assert ("h", 99) not in seen  # not flagged healthy: not probed
    assert result == [f"{p}/tcp" for p in range(1, 10, 2)]


@pytest.mark.parametrize(("kw", "field"), [
    ({"timeout": 0}, "probe_timeout"), ({"timeout": float("inf")}, "probe_timeout"),
    ({"concurrency": 0}, "probe_concurrency"), ({"concurrency": True}, "probe_concurrency"),
])
def test_prober_validates(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Prober(**kw)  # type: ignore[arg-type]
    assert info.value.field == field


# -- capacity codes on the client ----------------------------------------------------------


async def test_capacity_codes_default_to_the_simulators_and_are_overridable() -> None:
    assert frozenset({CAPACITY_ERROR_CODE}) == DEFAULT_CAPACITY_ERROR_CODES
    async with YottaClient("k", "http://127.0.0.1:1") as client:
        assert client.capacity_error_codes == {CAPACITY_ERROR_CODE}
    async with YottaClient("k", "http://127.0.0.1:1", capacity_error_codes=[5, 6]) as client:
        assert client.capacity_error_codes == {5, 6}
    async with YottaClient("k", "http://127.0.0.1:1", capacity_error_codes=()) as client:
        assert client.capacity_error_codes == frozenset()


@pytest.mark.parametrize("codes", ["24000", 24000, [True], ["24000"], [None]])
def test_capacity_codes_are_validated(codes: object) -> None:
    with pytest.raises(ConfigurationError, match="capacity_error_codes"):
        YottaClient("k", "http://127.0.0.1:1", capacity_error_codes=codes)  # type: ignore[arg-type]


def test_ready_targets_are_values_checked_however_built() -> None:
    from yotta_async import READY
    from yotta_async.waiting import Readiness, resolve_until

    assert READY(ports=["ssh", 22], probe=True) == Readiness(("ssh", 22), True)
    assert READY(ports=["ssh"]).ports == ("ssh",) and READY.ports is None
    assert str(READY) == "READY" and str(READY(ports=[22], probe=True)) == "READY (ports 22; probed)"
    assert resolve_until("ready") is READY and resolve_until(" Ready ") is READY
    for bad, field in (({"ports": "ssh"}, "ports"), ({"ports": [True]}, "ports[0]"),
                       ({"ports": [" "]}, "ports[0]"), ({"probe": 1}, "probe")):
        with pytest.raises(ValidationError) as info:
            Readiness(**bad)  # type: ignore[arg-type]
        assert info.value.field == field
