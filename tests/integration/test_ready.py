"""Waiting for pods you can use: READY (RUNNING plus healthy ports), lagging and never-healthy
ports, real TCP probes against loopback listeners, and flat request counts."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from yotta_async import (
    READY,
    ExposePort,
    PodCreateRequest,
    PodFailedError,
    PodStatus,
    Prober,
    WaitTimeoutError,
    WatchPolicy,
    YottaClient,
)
from yotta_async.testing import ManualClock, Simulator, Timings

from ._waitkit import changed_at, sim_client

T = Timings(jitter=0.0, port_health=5.0)
PORTS = ["22/ssh", "8888/http"]


def request(**kw: Any) -> PodCreateRequest:
    fields: dict[str, Any] = {"name": "r", "image": "img", "gpu_type": "NVIDIA_H100_80G", "gpu_count": 1,
                              "expose": PORTS}
    fields.update(kw)
    return PodCreateRequest.build(**fields)


async def test_ready_waits_past_running_for_lagging_ports() -> None:
    async with sim_client(timings=T, port_health={"ssh": 30.0, 8888: 90.0}, protocol_case="upper") as (
        sim, client, clock,
    ):
        pod = await client.pods.create(request())
        running_at = changed_at(sim, pod.id, PodStatus.RUNNING)
        ssh = await client.pods.wait_until_ready(pod.id, ports=["ssh"])  # replies say "SSH"
        assert ssh.status is PodStatus.RUNNING and ssh.is_ready(["SSH"]) and not ssh.is_ready()
        assert clock.now() >= running_at + 30.0 * (1 - T.jitter)
        every = await client.pods.wait_until_ready(pod.id)
        assert every.is_ready() and clock.now() >= running_at + 90.0 * (1 - T.jitter)
        assert every.ssh_endpoint == (every.expose[0].host, every.expose[0].proxy_port)  # type: ignore[index]


async def test_never_healthy_times_out_naming_the_ports() -> None:
    async with sim_client(timings=T, port_health={"http": math.inf}) as (_sim, client, _clock):
        pod = await client.pods.create(request())
        with pytest.raises(WaitTimeoutError) as info:
            await client.pods.wait_until_ready(pod.id, timeout=300)
        err = info.value
        assert err.ports == ["8888/http"] and "8888/http" in str(err)
        assert err.pod is not None and err.pod.status is PodStatus.RUNNING
        assert (await client.pods.wait_until_ready(pod.id, ports=[22], timeout=60)).is_ready([22])
        with pytest.raises(WaitTimeoutError) as info:
            await client.pods.wait_all([pod.id], until=READY, timeout=100)
        assert info.value.ports == ["8888/http"]


async def test_failed_and_terminated_fail_fast() -> None:
    async with sim_client(timings=T) as (_sim, client, clock):
        doomed = await client.pods.create(request(image="yotta/always-fails"))
        with pytest.raises(PodFailedError):
            await client.pods.wait_until_ready(doomed.id, timeout=10_000)
        assert clock.now() < 200  # not the whole timeout
        pod = await client.pods.create(request())
        await client.pods.delete(pod.id)
        with pytest.raises(PodFailedError):
            await client.pods.wait_all([pod.id], until="ready", timeout=10_000)


async def test_ready_is_a_target_for_wait_all_and_as_completed() -> None:
    async with sim_client(timings=T, seed=3) as (_sim, client, _clock):
        pods = [await client.pods.create(request(name=f"p{i}")) for i in range(4)]
        ids = [p.id for p in pods]
        ready = await client.pods.wait_all(ids, until=READY(ports=["ssh"]))
        assert [p.id for p in ready] == ids and all(p.is_ready(["ssh"]) for p in ready)
        seen = [p async for p in client.pods.as_completed(ids, until="READY")]
        assert sorted(p.id for p in seen) == sorted(ids) and all(p.is_ready() for p in seen)


@pytest.mark.parametrize("until", ["bogus", 2.5, None, "FAILED"])
async def test_bad_targets_are_refused(until: Any) -> None:
    from yotta_async import ValidationError

    async with sim_client(timings=T) as (sim, client, _clock):
        with pytest.raises(ValidationError, match="READY"):
            await client.pods.wait_all([1], until=until)
        with pytest.raises(ValidationError) as info:
            await client.pods.wait_until_ready(1, ports=[70000])
        assert info.value.field == "ports[0]"
        with pytest.raises(ValidationError):
            await client.pods.wait_until_ready(1, probe="yes")  # type: ignore[arg-type]
        assert sim.total_requests == 0


async def _ready_requests(n: int) -> tuple[int, int]:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=Timings(port_health=20.0), seed=n) as sim, \
            YottaClient(sim.api_key, sim.base_url, sleep=clock.sleep, clock=clock.now,
                        rng=random.Random(7)) as client:
        ids = sim.add_pods(n, status=None, expose=[ExposePort(port=22, protocol="ssh")])
        sim.reset_counters()
        await client.pods.wait_all(ids, until=READY, timeout=3600)
        counts = sim.request_counts
        return counts["GET /v2/pods"], counts["GET /v2/pods/{id}"]


async def test_requests_to_ready_stay_flat_in_n() -> None:
    small_lists, small_gets = await _ready_requests(50)
    large_lists, large_gets = await _ready_requests(500)
    assert small_gets == large_gets == 0  # no per-pod polling: one list per tick
    assert large_lists <= 1.5 * small_lists, (small_lists, large_lists)


# -- real probes --------------------------------------------------------------------------


async def test_probe_waits_for_the_proxy_behind_the_flag() -> None:
    lagging = Timings(jitter=0.0, port_health=5.0, proxy_lag=40.0)
    async with sim_client(timings=lagging, loopback_ports=True) as (sim, client, clock):
        pod = await client.pods.create(request(expose=["22/ssh"]))
        running_at = changed_at(sim, pod.id, PodStatus.RUNNING)
        flagged = await client.pods.wait_until_ready(pod.id)  # the flag alone
        assert clock.now() < running_at + 5.0 + 40.0
        client.pods.prober = Prober(timeout=2.0)
        probed = await client.pods.wait_until_ready(pod.id, probe=True)
        assert clock.now() >= running_at + 5.0 + 40.0  # the listener opened only then
        assert probed.ssh_endpoint == flagged.ssh_endpoint and client.pods.prober.probes >= 2
        await client.pods.delete(pod.id)
        assert sim.open_ports == 0


async def test_probe_that_never_connects_times_out_naming_the_port() -> None:
    never = Timings(jitter=0.0, port_health=5.0, proxy_lag=math.inf)
    async with sim_client(timings=never, loopback_ports=True) as (_sim, client, _clock):
        pod = await client.pods.create(request(expose=["22/ssh"]))
        with pytest.raises(WaitTimeoutError) as info:
            await client.pods.wait_all([pod.id], until=READY(probe=True), timeout=200)
        assert info.value.ports == ["22/ssh"] and "refused a TCP connection" in str(info.value)


async def test_many_probed_pods_share_one_poller_under_the_probe_cap() -> None:
    timings = Timings(port_health=5.0, proxy_lag=10.0)
    async with sim_client(timings=timings, loopback_ports=True, seed=5) as (sim, client, _clock):
        client.pods.prober = Prober(timeout=2.0, concurrency=2)
        ids = [(await client.pods.create(request(name=f"p{i}"))).id for i in range(8)]
        sim.reset_counters()
        ready = await client.pods.wait_all(ids, until=READY(probe=True), timeout=600)
        assert all(p.is_ready() for p in ready)
        prober = client.pods.prober
        assert prober.max_in_flight <= 2 and prober.probes >= 16  # two ports on each of 8 pods
        assert sim.request_counts["GET /v2/pods/{id}"] == 0
        assert sim.open_ports == 16
    assert sim.open_ports == 0  # closed with the simulator


async def test_a_real_clock_probe_with_the_default_prober() -> None:
    async with Simulator(time_scale=0.001, loopback_ports=True) as sim, \
            YottaClient(sim.api_key, sim.base_url) as client:
        client.pods.watch_policy = WatchPolicy(floor=0.005, maximum=0.02)
        pod = await client.pods.create(request(expose=["22/ssh"]))
        got = await client.pods.wait_until_ready(pod.id, probe=True, timeout=30)
        assert got.is_ready() and got.ssh_endpoint is not None
        assert got.ssh_endpoint[0] == "127.0.0.1"
