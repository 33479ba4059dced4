"""Hardening-suite guard: no test may leave a task running behind it.

pytest-asyncio closes each test's loop with ``asyncio.Runner``, which cancels leftover tasks
quietly, so a leaked poller would otherwise go unnoticed. (Suggested for tests/conftest.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
async def _no_task_left_behind() -> AsyncIterator[None]:
    yield
    for _ in range(20):  # let cancelled tasks and closing transports finish their last step
        await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert not left, f"tasks still running after the test: {left}"
