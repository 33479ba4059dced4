"""Bulk methods on ``client.pods``: ``*_many`` helpers, pod groups and ``sweep``."""

from __future__ import annotations

from ._waiting import PodsWaiting


class PodsBulk(PodsWaiting):
    """``create_many``, ``pause_many``, ``resume_many``, ``delete_many``, ``group``, ``sweep``."""
