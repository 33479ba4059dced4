"""One ``YottaClient`` per (event loop, connection id), shared by every trigger in a triggerer.

A triggerer runs thousands of triggers as tasks of one asyncio event loop. If each opened its
own client, each would run its own poller and a thousand deferred waits would cost a thousand
``GET /v2/pods`` per tick. Here they borrow one client per connection instead, so the
client's shared watcher serves them all with one listing per tick.

The registry is keyed weakly by the running loop (a test suite or ``dag.test()`` makes a new
loop per run, and a client's aiohttp session must never cross loops) and reference-counted:
the last borrower to leave closes the client, so no session outlives its users.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from ... import YottaClient

__all__ = ["borrowed_clients", "shared_client"]

ClientFactory = Callable[[], Coroutine[Any, Any, YottaClient]]


@dataclass(eq=False)
class _Entry:
    """A client being made or in use, and how many borrowers hold it."""

    making: asyncio.Task[YottaClient]
    refs: int = 0
    closed: bool = field(default=False)


_REGISTRY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Entry]] = (
    weakref.WeakKeyDictionary()
)


def borrowed_clients() -> dict[str, int]:
    """Connection id -> number of borrowers of the shared clients on the running loop.

    For tests and diagnostics: empty once every trigger on this loop has finished.
    """
    entries = _REGISTRY.get(asyncio.get_running_loop(), {})
    return {conn_id: entry.refs for conn_id, entry in entries.items()}


@asynccontextmanager
async def shared_client(conn_id: str, factory: ClientFactory) -> AsyncIterator[YottaClient]:
    """Borrow the loop's client for ``conn_id``, making it with ``factory()`` if there is none.

    ::

        async with shared_client("yotta_default", hook.aget_client) as client:
            pods = await client.pods.wait_all(ids)

    Concurrent first borrowers share one ``factory()`` call (one connection lookup). A
    failed ``factory()`` is not cached: the next borrower tries again. The last borrower to
    leave closes the client, shielded from cancellation so the session is always released.
    """
    loop = asyncio.get_running_loop()
    entries = _REGISTRY.setdefault(loop, {})
    entry = entries.get(conn_id)
    if entry is None:
        entry = _Entry(making=loop.create_task(factory(), name=f"yotta-client:{conn_id}"))
        entries[conn_id] = entry
    entry.refs += 1
    try:
        client = await asyncio.shield(entry.making)
    except BaseException:
        await _release(entries, conn_id, entry)
        raise
    try:
        yield client
    finally:
        await _release(entries, conn_id, entry)


async def _release(entries: dict[str, _Entry], conn_id: str, entry: _Entry) -> None:
    """Drop one reference; the last one out unregisters the entry and closes its client."""
    entry.refs -= 1
    if entry.refs > 0 or entry.closed:
        return
    entry.closed = True
    # Unregister before any await, so a borrower arriving meanwhile makes a fresh client
    # instead of receiving one that is being closed.
    if entries.get(conn_id) is entry:
        del entries[conn_id]
    with anyio.CancelScope(shield=True):
        making = entry.making
        if not making.done():
            making.cancel()
        try:
            client = await making
        except BaseException:  # cancelled or failed: there is no client to close
            return
        await client.aclose()
