"""The simulator's readiness and capacity knobs: per-port health delays, never-healthy ports,
real loopback listeners, protocol case, and refusing a create beyond capacity."""

from __future__ import annotations

import math

import pytest

from yotta_async import APIError, ExposePort, PodCreateRequest, YottaClient
from yotta_async._probe import probe_tcp
from yotta_async.testing import CAPACITY_ERROR_CODE, ManualClock, Simulator, Timings

T = Timings(jitter=0.25)
PORTS = [ExposePort(port=22, protocol="ssh"), ExposePort(port=8888, protocol="http")]


def request(**kw: object) -> PodCreateRequest:
    fields: dict[str, object] = {"name": "r", "image": "img", "gpu_type": "NVIDIA_H100_80G", "gpu_count": 1}
    fields.update(kw)
    return PodCreateRequest(**fields)  # type: ignore[arg-type]


def up_at(sim: Simulator) -> float:
    """Clock seconds after create at which a fresh pod is certainly RUNNING."""
    return (T.pending + T.initializing) * (1 + T.jitter)


async def test_ports_turn_healthy_a_configured_seeded_delay_after_running() -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T, port_health={22: 10.0, "HTTP": 40.0}) as sim, \
            YottaClient(sim.api_key, sim.base_url) as client:
        pod = await client.pods.create(request(expose=PORTS))
        store_pod = sim.store.get(pod.id)
        assert store_pod is not None
        delays = [sim.store.health_delay(store_pod, i) for i in range(2)]
        assert 10.0 * (1 - T.jitter) <= delays[0] <= 10.0 and 40.0 * (1 - T.jitter) <= delays[1] <= 40.0
        running_since, status = store_pod.timeline[-1]
        assert status.value == "RUNNING"
        clock.set(running_since + delays[0] - 0.01)  # just before the SSH port is due
        got = await client.pods.get(pod.id)
        assert got.status.value == "RUNNING" and [e.healthy for e in got.expose or []] == [False, False]
        clock.set(running_since + delays[0] + 1e-6)
        got = await client.pods.get(pod.id)
        assert [e.healthy for e in got.expose or []] == [True, False]
        assert got.is_ready(["ssh"]) and not got.is_ready()
        clock.set(running_since + delays[1] + 1e-6)
        assert (await client.pods.get(pod.id)).is_ready()


async def test_the_delays_are_seeded() -> None:
    async def delays(seed: int) -> list[float]:
        async with Simulator(clock=ManualClock(), seed=seed, timings=T) as sim:
            ids = sim.add_pods(3, status=None, expose=PORTS)
            return [sim.store.health_delay(sim.store.get(i), j) for i in ids for j in range(2)]  # type: ignore[arg-type]

    first = await delays(7)
    assert first == await delays(7)
    assert first != await delays(8)
    assert len(set(first)) > 1


async def test_never_healthy_by_port_and_by_default() -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T, port_health={"ssh": math.inf}) as sim, \
            YottaClient(sim.api_key, sim.base_url) as client:
        pod = await client.pods.create(request(expose=PORTS))
        clock.advance(up_at(sim) + 10_000)
        got = await client.pods.get(pod.id)
        assert [e.healthy for e in got.expose or []] == [False, True]
        sim.port_health = {}  # changed mid-run: the default delay applies again
        assert (await client.pods.get(pod.id)).is_ready()
        sim.port_health = {8888: math.inf}
        assert (await client.pods.get(pod.id)).unready_ports() == ["8888/http"]
    async with Simulator(clock=ManualClock(), timings=Timings(port_health=math.inf)) as sim:
        (pid,) = sim.add_pods(1, expose=PORTS)  # a seeded RUNNING pod is not made healthy either
        assert [e["healthy"] for e in sim.pod(pid)["expose"]] == [False, False]  # type: ignore[index]


@pytest.mark.parametrize(("case", "expected"), [("upper", ["SSH", "HTTP"]), ("lower", ["ssh", "http"]),
                                                (None, ["ssh", "http"])])
async def test_protocol_case_switch(case: str | None, expected: list[str]) -> None:
    ports = [ExposePort(port=22, protocol="ssh"), ExposePort(port=8888, protocol="HTTP")]
    async with Simulator(clock=ManualClock(), protocol_case=case) as sim:  # type: ignore[arg-type]
        (pid,) = sim.add_pods(1, expose=ports)
        got = [e["protocol"] for e in sim.pod(pid)["expose"]]  # type: ignore[index]
        assert got == (expected if case else ["ssh", "HTTP"])
        sim.protocol_case = "upper"
        assert [e["protocol"] for e in sim.pod(pid)["expose"]] == ["SSH", "HTTP"]  # type: ignore[index]


async def test_loopback_ports_listen_once_healthy_and_close_on_delete() -> None:
    clock = ManualClock()
    timings = Timings(jitter=0.0, proxy_lag=3.0)
    async with Simulator(clock=clock, timings=timings, loopback_ports=True) as sim, \
            YottaClient(sim.api_key, sim.base_url) as client:
        pod = await client.pods.create(request(expose=PORTS))
        entries = pod.expose or []
        assert {e.host for e in entries} == {"127.0.0.1"}
        ports = [e.proxy_port for e in entries]
        assert all(isinstance(p, int) and p > 0 for p in ports) and len(set(ports)) == 2
        assert pod.ssh_endpoint == ("127.0.0.1", ports[0])
        assert sim.open_ports == 2
        assert not await probe_tcp("127.0.0.1", ports[0], 1.0)  # bound, not listening: refused
        clock.advance(timings.pending + timings.initializing + timings.port_health)
        got = await client.pods.get(pod.id)
        assert got.is_ready()  # the flag is up ...
        assert not await probe_tcp("127.0.0.1", ports[0], 1.0)  # ... but the proxy lags behind
        clock.advance(timings.proxy_lag)
        await sim.sync_ports()
        assert await probe_tcp("127.0.0.1", ports[0], 1.0)
        assert await probe_tcp("127.0.0.1", ports[1], 1.0)
        await client.pods.delete(pod.id)
        assert sim.open_ports == 0
        assert not await probe_tcp("127.0.0.1", ports[0], 1.0)


async def test_loopback_ports_close_for_failed_pods_and_on_close() -> None:
    clock = ManualClock()
    sim = Simulator(clock=clock, timings=Timings(jitter=0.0), loopback_ports=True)
    async with sim, YottaClient(sim.api_key, sim.base_url) as client:
        doomed = await client.pods.create(request(image="yotta/always-fails", expose=PORTS))
        await client.pods.create(request(expose=PORTS))
        assert sim.open_ports == 4
        clock.advance(10_000)
        assert (await client.pods.get(doomed.id)).status.value == "FAILED"
        assert sim.open_ports == 2  # the failed pod's sockets went with it
    assert sim.open_ports == 0


async def test_over_capacity_fails_by_default_and_refuses_when_switched() -> None:
    clock = ManualClock()
    capacity = {("NVIDIA_H100_80G", "us-east-1"): 1}
    async with Simulator(clock=clock, timings=T, capacity=capacity) as sim, \
            YottaClient(sim.api_key, sim.base_url) as client:
        assert sim.over_capacity == "fail"
        first = await client.pods.create(request(regions=["us-east-1"]))
        second = await client.pods.create(request(regions=["us-east-1"]))  # accepted, then FAILED
        clock.advance(up_at(sim))
        assert sim.status(second.id).value == "FAILED"  # type: ignore[union-attr]
        sim.over_capacity = "refuse"
        with pytest.raises(APIError) as info:
            await client.pods.create(request(regions=["us-east-1"]))
        assert info.value.code == CAPACITY_ERROR_CODE == 24000
        assert "insufficient resources" in info.value.message
        assert len(sim.pods()) == 2  # nothing was made
        await client.pods.delete(first.id)
        clock.advance(T.terminating * 2)
        third = await client.pods.create(request(regions=["us-east-1"]))  # room again
        assert third.region == "us-east-1"
    with pytest.raises(ValueError, match="over_capacity"):
        Simulator(over_capacity="queue")  # type: ignore[arg-type]


def test_port_health_flag_parses() -> None:
    import argparse

    from yotta_async.testing._serve import port_health

    assert port_health("22=5, http=30,ssh=never") == {22: 5.0, "http": 30.0, "ssh": math.inf}
    for bad in ("22", "=5", "22=-1", "22=soon"):
        with pytest.raises(argparse.ArgumentTypeError):
            port_health(bad)


def test_capacity_flag_parses() -> None:
    import argparse

    from yotta_async.testing._serve import capacity

    assert capacity("NVIDIA_H100_80G@us-east-1=5") == (("NVIDIA_H100_80G", "us-east-1"), 5)
    for bad in ("NVIDIA_H100_80G=5", "@r=1", "t@r=", "t@r=-1", "t@r"):
        with pytest.raises(argparse.ArgumentTypeError):
            capacity(bad)
