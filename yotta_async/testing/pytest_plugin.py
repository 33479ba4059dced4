"""Pytest fixtures (``pytest11`` entry point): a simulator and a client that share one clock.

``yotta_simulator`` and ``yotta_client`` share a :class:`ManualClock`: every poll, backoff,
``Retry-After`` and reconciliation pause of the client moves simulated time forward
instead of sleeping, so a create -> wait -> delete test takes milliseconds. Time moves only
when the client waits (or when a test calls ``yotta_simulator.advance(seconds)``).

Configure them the usual pytest way::

    @pytest.mark.yotta_simulator(seed=3, faults=FaultPlan.everywhere(error_502=0.1),
                                 capacity={"NVIDIA_H100_80G": 8})
    @pytest.mark.yotta_client(max_retries=2)
    async def test_something(yotta_client, yotta_simulator): ...

``yotta_simulator`` takes the :class:`Simulator` keywords, plus ``clock="manual"`` (the
default), ``"real"`` (wall-clock time, ``time_scale`` 0.001 by default) or a clock object.
``yotta_client`` takes :class:`YottaClient` keywords. ``yotta_factory`` builds more of both
(``await yotta_factory.simulator(...)``, ``await yotta_factory.client(sim, ...)``), and
``yotta_clock`` is the simulator's clock.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from ._clock import Clock, ManualClock, MonotonicClock
from ._simulator import Simulator

if TYPE_CHECKING:
    import pytest

    from .._client import YottaClient

__all__ = ["YottaFactory", "yotta_client", "yotta_clock", "yotta_factory", "yotta_simulator"]

FAST_TIME_SCALE = 0.001  # with clock="real": a 45 s start-up takes ~45 ms
MARKERS = (
    "yotta_simulator(**options): Simulator keywords for the yotta_simulator fixture, plus "
    "clock='manual' (default), 'real' or a clock object",
    "yotta_client(**options): YottaClient keywords for the yotta_client fixture",
)

F = TypeVar("F", bound=Callable[..., Any])
_decorator: Callable[..., Any]
try:  # strict-mode users need pytest_asyncio.fixture; auto mode accepts it too
    import pytest_asyncio

    _decorator = pytest_asyncio.fixture
except ImportError:  # pragma: no cover - plugin used without pytest-asyncio
    import pytest as _pytest

    _decorator = _pytest.fixture


def _fixture(func: F) -> F:
    return cast(F, _decorator(func))


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, so ``--strict-markers`` projects accept them."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)


class YottaFactory:
    """Builds simulators and clients for one test, and closes all of them at its end.

    ::

        async def test_two_accounts(yotta_factory):
            sim = await yotta_factory.simulator(seed=1, capacity={"NVIDIA_H100_80G": 2})
            alice = await yotta_factory.client(sim)
            bob = await yotta_factory.client(sim, max_retries=0)
    """

    def __init__(self, stack: contextlib.AsyncExitStack) -> None:
        self._stack = stack

    async def simulator(
        self,
        *,
        clock: Literal["manual", "real"] | Clock = "manual",
        time_scale: float | None = None,
        **options: Any,
    ) -> Simulator:
        """A started :class:`Simulator` (closed at the test's end).

        ``clock="manual"`` (default): a fresh :class:`ManualClock`, ``time_scale`` 1.
        ``clock="real"``: wall-clock time, ``time_scale`` 0.001. Or pass a clock object.
        Other keywords go to :class:`Simulator` (``seed``, ``faults``, ``capacity``,
        ``timings``, ``failure_rate``, ...).
        """
        if clock == "manual":
            chosen: Clock = ManualClock()
        elif clock == "real":
            chosen = MonotonicClock()
        elif isinstance(clock, Clock):
            chosen = clock
        else:
            raise TypeError(f"clock must be 'manual', 'real' or a clock object, got {clock!r}")
        if time_scale is None:
            time_scale = FAST_TIME_SCALE if isinstance(chosen, MonotonicClock) else 1.0
        sim = Simulator(clock=chosen, time_scale=time_scale, **options)
        return await self._stack.enter_async_context(sim)

    async def client(self, simulator: Simulator, **options: Any) -> YottaClient:
        """A :class:`YottaClient` for ``simulator`` that lives on the simulator's time.

        Its clock and sleep run on the simulator's clock, in simulated seconds (so with a
        :class:`ManualClock` a wait moves time instead of sleeping); its jitter is seeded.
        Keywords override any of that, or set other client options.
        """
        from .. import YottaClient

        clock, scale = simulator.clock, simulator.store.time_scale

        async def sleep(seconds: float) -> None:
            await clock.sleep(seconds * scale)

        options.setdefault("clock", lambda: clock.now() / scale)
        options.setdefault("sleep", sleep)
        wait_until = getattr(clock, "wait_until", None)
        if wait_until is not None:

            async def idle_until(deadline: float) -> None:
                await wait_until(deadline * scale)

            options.setdefault("idle_until", idle_until)
        options.setdefault("rng", random.Random(0))
        client = YottaClient(simulator.api_key, simulator.base_url, **options)
        return await self._stack.enter_async_context(client)


def _options(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    marker = request.node.get_closest_marker(name)
    return dict(marker.kwargs) if marker is not None else {}


@_fixture
async def yotta_factory() -> AsyncIterator[YottaFactory]:
    """A :class:`YottaFactory`: more simulators and clients, all closed after the test."""
    async with contextlib.AsyncExitStack() as stack:
        yield YottaFactory(stack)


@_fixture
async def yotta_simulator(request: pytest.FixtureRequest, yotta_factory: YottaFactory) -> Simulator:
    """A running :class:`Simulator` on a :class:`ManualClock` (see the module docstring).

    Configured by ``@pytest.mark.yotta_simulator(**options)``.
    """
    return await yotta_factory.simulator(**_options(request, "yotta_simulator"))


@_fixture
async def yotta_client(
    request: pytest.FixtureRequest, yotta_factory: YottaFactory, yotta_simulator: Simulator
) -> YottaClient:
    """A ``YottaClient`` bound to ``yotta_simulator`` and living on its clock.

    Configured by ``@pytest.mark.yotta_client(**options)``.
    """
    return await yotta_factory.client(yotta_simulator, **_options(request, "yotta_client"))


@_fixture
async def yotta_clock(yotta_simulator: Simulator) -> Clock:
    """The clock of ``yotta_simulator`` (a :class:`ManualClock` unless configured otherwise)."""
    return yotta_simulator.clock
