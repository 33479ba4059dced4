"""Fixtures shared by the integration suites: a fast simulator and a client tuned to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from yotta_async import Backoff, WatchPolicy, YottaClient
from yotta_async.testing import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator 1,000x faster than real time (a module may override it)."""
    async with Simulator(time_scale=0.001) as simulator:
        yield simulator


def fast_client(sim: Simulator, *, reconcile_settle: float = 0.005, **kw: Any) -> YottaClient:
    """A client whose backoff, polling and reconciliation match a 1,000x simulator."""
    kw.setdefault("backoff", Backoff(initial=0.001, maximum=0.004))
    client = YottaClient(sim.api_key, sim.base_url, **kw)
    client.pods.watch_policy = WatchPolicy(floor=0.005, maximum=0.02)
    client.pods.reconcile_settle = reconcile_settle
    return client
