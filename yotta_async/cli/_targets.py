"""What ``--wait``/``--until`` name, as the SDK's wait targets (shared by ``pods`` and ``launch``)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["wait_target"]


def wait_target(word: str, args: argparse.Namespace) -> Any:
    """``running``/``ready``/``paused``/``terminated`` (with ``--port``/``--probe`` for ready)
    as the SDK's wait target: a ``PodStatus`` or ``READY(...)``."""
    from ..models import PodStatus
    from ..waiting import READY

    if word == "ready":
        return READY(ports=getattr(args, "ready_ports", None), probe=getattr(args, "probe", False))
    return PodStatus(word.upper())
