"""Shared test fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses

from tests._aioresponses_compat import CompatClientResponse

# Registered here rather than through the pytest11 entry point (disabled in pyproject's
# addopts) so that coverage is already running when yotta_async is imported.
pytest_plugins = ["yotta_async.testing.pytest_plugin"]


@pytest.fixture
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, patched for aiohttp >= 3.14 (see tests/_aioresponses_compat.py)."""
    import aioresponses.core as core

    monkeypatch.setattr(core, "ClientResponse", CompatClientResponse)
    with aioresponses() as mocked:
        yield mocked


@pytest.fixture(autouse=True)
async def _no_task_left_behind() -> AsyncIterator[None]:
    """Fail any test that leaves a task running (a leaked poller, an orphaned request).

    pytest-asyncio closes each test's loop with ``asyncio.Runner``, which cancels leftover
    tasks quietly, so without this check such a leak would go unnoticed.
    """
    yield
    for _ in range(20):  # let cancelled tasks and closing transports finish their last step
        await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert not left, f"tasks still running after the test: {left}"
