"""Pytest fixtures (``pytest11`` entry point): ``yotta_simulator`` and ``yotta_client``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._simulator import Simulator

if TYPE_CHECKING:
    from .._client import YottaClient

__all__ = ["yotta_client", "yotta_simulator"]

FAST_TIME_SCALE = 0.001  # a 45 s start-up takes ~45 ms

F = TypeVar("F", bound=Callable[..., Any])
_decorator: Callable[..., Any]
try:  # strict-mode users need pytest_asyncio.fixture; auto mode accepts it too
    import pytest_asyncio

    _decorator = pytest_asyncio.fixture
except ImportError:  # pragma: no cover - plugin used without pytest-asyncio
    import pytest

    _decorator = pytest.fixture


def _fixture(func: F) -> F:
    return cast(F, _decorator(func))


@_fixture
async def yotta_simulator() -> AsyncIterator[Simulator]:
    """A running :class:`Simulator` with a fast clock (``time_scale=0.001``), per test."""
    async with Simulator(time_scale=FAST_TIME_SCALE) as sim:
        yield sim


@_fixture
async def yotta_client(yotta_simulator: Simulator) -> AsyncIterator[YottaClient]:
    """A ``YottaClient`` bound to the ``yotta_simulator`` fixture."""
    from .. import YottaClient

    async with YottaClient(yotta_simulator.api_key, yotta_simulator.base_url) as client:
        yield client
