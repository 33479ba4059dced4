"""placeholder"""
from __future__ import annotations

from typing import Any


async def launch(ctx: Any) -> int:
    raise NotImplementedError
async def sweep(ctx: Any) -> int:
    raise NotImplementedError
