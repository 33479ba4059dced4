"""Waiter methods on ``client.pods``: one pod, many pods, and status-change streams."""

from __future__ import annotations

from ._core import PodsCore


class PodsWaiting(PodsCore):
    """``wait_until_*``, ``wait_all``, ``as_completed`` and ``watch``."""

    async def _aclose(self) -> None:
        """Stop any background poller this resource started."""
