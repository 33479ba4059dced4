"""What every command handler receives: parsed flags, an open client and the output."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ._output import Output

if TYPE_CHECKING:
    from .._client import YottaClient

__all__ = ["Context", "Handler", "api_fields"]


@dataclass
class Context:
    """What every command handler gets: parsed flags, an open client and the output."""

    args: argparse.Namespace
    client: YottaClient
    out: Output
    simulate: bool = False
    # Under --simulate: the simulator's clock, which ``createdAt`` ages are measured on.
    now: Callable[[], datetime] | None = None
    # Commands that find what an abandoned cleanup (a second Ctrl-C) leaves behind.
    leftovers: list[str] = field(default_factory=list)
    # Set on SIGINT/SIGTERM for commands that stop gracefully (the reaper) instead of cancelling.
    stop: asyncio.Event | None = None


Handler = Callable[[Context], Awaitable[int]]
"""A command: runs against the context, returns the exit code."""


async def api_fields(ctx: Context) -> None:
    """Under ``--output json``: one listing, so printed pods keep the fields the SDK's model lacks."""
    from ..errors import YottaError

    if ctx.out.json:
        # Best effort: without it, the SDK's own fields are printed regardless.
        with contextlib.suppress(YottaError):
            ctx.out.remember(await ctx.client.pods.list_raw())
