"""What every command handler receives: parsed flags, an open client and the output."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ._output import Output

if TYPE_CHECKING:
    from .._client import YottaClient

__all__ = ["Context", "Handler"]


@dataclass
class Context:
    """What every command handler gets: parsed flags, an open client and the output."""

    args: argparse.Namespace
    client: YottaClient
    out: Output
    simulate: bool = False
    # Under --simulate: the simulator's clock, which ``createdAt`` ages are measured on.
    now: Callable[[], datetime] | None = None


Handler = Callable[[Context], Awaitable[int]]
"""A command: runs against the context, returns the exit code."""
