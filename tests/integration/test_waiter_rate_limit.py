"""End to end: a 429 seen by a waiter's poll slows every other request of the client.

Waiters poll with no retries of their own inside the session, so this checks that their 429s
still start the client-wide cooldown, through a real waiter against the simulator's fault
plan. Time is a :class:`SteppedTime` that only the test moves, so "held until Retry-After has
passed" is asserted exactly, with no real waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import anyio
import pytest

from tests._fakes import SteppedTime
from yotta_async import Pod, PodStatus, YottaClient
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator

LIST = "GET /v2/pods"
GET = "GET /v2/pods/{id}"
RETRY_AFTER = 5.0

Wait = Callable[[YottaClient, int], Awaitable[object]]
Other = Callable[[YottaClient, int], Awaitable[object]]

CASES: dict[str, tuple[str, Wait, str, Other]] = {
    # (route the waiter polls, the wait, route of the unrelated call, the unrelated call)
    "lone wait_until_running": (
        GET, lambda c, pid: c.pods.wait_until_running(pid, timeout=60), LIST, lambda c, pid: c.pods.list()
    ),
    "shared wait_all": (
        LIST, lambda c, pid: c.pods.wait_all([pid], timeout=60), GET, lambda c, pid: c.pods.get(pid)
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_429_seen_by_a_waiter_holds_every_other_request_until_retry_after(case: str) -> None:
    polled, wait, other_route, other = CASES[case]
    time = SteppedTime()
    async with Simulator(clock=ManualClock()) as sim:
        [pid] = sim.add_pods(1, status=PodStatus.RUNNING)
        sim.faults = FaultPlan({polled: FaultRule(rate_limit=1.0, retry_after=RETRY_AFTER, limit=1)})
        async with YottaClient(sim.api_key, sim.base_url, clock=time.clock, sleep=time.sleep) as client:
            waiter = asyncio.ensure_future(wait(client, pid))
            bystander: asyncio.Future[object] | None = None
            try:
                with anyio.fail_after(5):
                    await time.sleeping(1)  # the waiter's poll got the 429 and backs off
                assert sim.faults.injected["429"] == 1 and sim.request_counts[polled] == 1
                assert max(time.sleeps) == RETRY_AFTER  # it honours Retry-After itself...

                bystander = asyncio.ensure_future(other(client, pid))
                with anyio.fail_after(5):  # a guard only: if it is not held, it never sleeps
                    await time.sleeping(2)  # ...and so does an unrelated call, before it is sent
                assert time.sleeps[-1] == RETRY_AFTER
                time.advance(RETRY_AFTER - 0.5)
                for _ in range(10):
                    await asyncio.sleep(0)
                assert not bystander.done() and sim.request_counts[other_route] == 0

                time.advance(0.5)  # Retry-After has passed: both go
                got = await bystander
                result = await waiter
            finally:  # on a failed assertion, leave no task behind
                for task in (waiter, bystander):
                    if task is not None and not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
    assert sim.request_counts[other_route] == 1
    assert sim.request_counts[polled] == 2  # one 429, then the poll that saw RUNNING
    pods = result if isinstance(result, list) else [result]
    assert [p.status for p in pods if isinstance(p, Pod)] == [PodStatus.RUNNING]
    assert got is not None
