"""``client.pods``: every pod operation, assembled from the layers in this package."""

from __future__ import annotations

from ._bulk import PodsBulk

__all__ = ["Pods"]


class Pods(PodsBulk):
    """The pods resource (``client.pods``).

    Endpoints: ``create``, ``list``, ``get``, ``pause``, ``resume``, ``delete``.
    Waiters: ``wait_until_running``, ``wait_until_paused``, ``wait_until_terminated``,
    ``wait_all``, ``as_completed``, ``watch``.
    Bulk: ``create_many``, ``pause_many``, ``resume_many``, ``delete_many``, ``group``,
    ``sweep``.
    """
