"""``client.pods.watch``: status-change streams over the shared watcher."""

from __future__ import annotations

import itertools

from yotta_async import PodChange, PodStatus

from ._waitkit import sdk_tasks, sim_client

S = PodStatus
FAILS = "yotta/always-fails"
# The order a fresh pod may move in (states can be skipped between two polls).
LIFECYCLE = [S.PENDING, S.INITIALIZING, S.RUNNING]


async def test_watch_1000_pods_with_mixed_outcomes() -> None:
    async with sim_client(seed=31, failure_rate=0.05) as (sim, client, _):
        ids = sim.add_pods(980, status=None) + sim.add_pods(20, status=None, image=FAILS)
        history: dict[int, list[PodChange]] = {i: [] for i in ids}
        settled: set[int] = set()
        async for change in client.pods.watch(ids):
            history[change.pod.id].append(change)
            if change.current in (S.RUNNING, S.FAILED):
                settled.add(change.pod.id)
            if len(settled) == len(ids):
                break
        for pid, changes in history.items():
            assert changes[0].previous is None
            for before, after in itertools.pairwise(changes):
                assert after.previous is before.current  # no change lost or reordered
            final = changes[-1].current
            assert final is sim.status(pid)
            path = [c.current for c in changes]
            if final is S.RUNNING:
                assert path == sorted(path, key=LIFECYCLE.index)  # type: ignore[arg-type]
        failed = {i for i in ids if sim.status(i) is S.FAILED}
        assert len(failed) >= 20
        assert sim.request_counts["GET /v2/pods/{id}"] == 0
        # Breaking out dropped the stream, which unsubscribed there and then.
        assert not client.pods.waits.watcher.running  # told to stop at once...
        await client.pods.waits.watcher.wait_stopped()
        assert sdk_tasks() == []  # ...and finished


async def test_watch_ends_when_every_pod_is_terminated() -> None:
    async with sim_client(seed=32) as (sim, client, _):
        ids = sim.add_pods(5, status=S.RUNNING)
        seen: list[tuple[int, S | None, S | None]] = []
        async with client.pods.watch(ids) as stream:
            async for change in stream:
                seen.append((change.pod.id, change.previous, change.current))
                if change.current is S.RUNNING:
                    await client.pods.delete(change.pod.id)
        for pid in ids:
            mine = [(a, b) for p, a, b in seen if p == pid]
            assert mine[0] == (None, S.RUNNING) and mine[-1][1] is S.TERMINATED
        assert not client.pods.waits.watcher.running and sdk_tasks() == []


async def test_watch_everything_sees_new_and_vanishing_pods() -> None:
    async with sim_client(seed=33) as (sim, client, _clock):
        [old] = sim.add_pods(1, status=S.TERMINATED)
        new: list[int] = []
        events: list[tuple[int, S | None, S | None]] = []
        stream = client.pods.watch()
        async for change in stream:
            events.append((change.pod.id, change.previous, change.current))
            if not new:
                new = sim.add_pods(1, status=None)  # created while we watch
            if change.gone and change.pod.id == old:
                break
        await stream.aclose()
        assert (old, None, S.TERMINATED) in events
        assert (old, S.TERMINATED, None) in events  # gone after the retention period
        assert (new[0], None, S.PENDING) in events
        assert (new[0], S.INITIALIZING, S.RUNNING) in events
        assert sim.request_counts["GET /v2/pods/{id}"] >= 1  # "gone" was confirmed by a GET
        assert not client.pods.waits.watcher.running and sdk_tasks() == []
