"""Persistent volumes (``/v2/volumes``), their enums, and ``VolumeMount`` for mounting one in a pod."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias, Union

import msgspec

from ._base import Int64, Model
from ._open_enum import OpenEnum
from .pod import from_epoch_ms

__all__ = ["StorageType", "VendorVolumeType", "Volume", "VolumeMount", "VolumePage", "VolumeStatus"]


class StorageType(OpenEnum):
    """Where a volume lives: ``CEPH`` (network storage for pods), ``S3``, ``R2``, ``VENDOR``.

    Decoding ignores case and keeps unknown values.
    """

    S3 = "S3"
    CEPH = "CEPH"
    VENDOR = "VENDOR"
    R2 = "R2"


class VendorVolumeType(OpenEnum):
    """Disk class of a ``VENDOR`` volume."""

    NVME = "NVMe"
    HDD = "HDD"


class VolumeStatus(OpenEnum):
    """A volume's status. The API sends lower case, but its resize rule says ``ACTIVE``.

    Decoding ignores case (``VolumeStatus("ACTIVE") is VolumeStatus.ACTIVE``) and keeps
    unknown values (``is_known`` False).
    """

    CREATING = "creating"
    ACTIVE = "active"
    DELETING = "deleting"
    RESIZING = "resizing"
    ERROR = "error"

    @classmethod
    def _fold(cls, text: str) -> str:
        return text.lower()

    @property
    def is_transitional(self) -> bool:
        """``creating``, ``resizing`` and ``deleting``: on the way to another status."""
        return self in (VolumeStatus.CREATING, VolumeStatus.RESIZING, VolumeStatus.DELETING)


class Volume(Model, kw_only=True, omit_defaults=False):
    """A persistent volume.

    ``id`` is an exact int (a numeric string is accepted, as the spec allows). ``cost`` is
    a ``Decimal`` from a JSON number or a decimal string; its unit and period are not
    documented. ``created_at`` is epoch milliseconds; ``created`` gives a ``datetime``.
    ``size_in_gb`` and ``region`` are ``None`` for S3/R2; ``vendor_volume_type`` is set for
    VENDOR volumes only. Delete and resize need ``mount_count == 0`` and an active volume.
    Encoded, every field is written (``mountCount: 0`` and ``null`` s included), as the API does.
    """

    id: Int64
    name: str
    storage_type: StorageType
    status: VolumeStatus
    size_in_gb: int | None = None
    region: str | None = None
    vendor_volume_type: VendorVolumeType | None = None
    mount_count: int = 0
    cost: Decimal | None = None
    created_at: int | None = None

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware UTC datetime."""
        return from_epoch_ms(self.created_at)

    @property
    def is_active(self) -> bool:
        """True when the volume can be mounted, resized or deleted (if not mounted)."""
        return self.status is VolumeStatus.ACTIVE


class VolumePage(Model, kw_only=True):
    """One page of ``GET /v2/volumes``: ``items`` plus 1-based ``page``, ``size``, ``total``, ``pages``."""

    items: list[Volume] = msgspec.field(default_factory=list)
    page: int = 1
    size: int = 0
    total: int = 0
    pages: int = 0


VolumeRef: TypeAlias = Union[Volume, int, str]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True)
class VolumeMount:
    """Mount ``volume`` (a :class:`Volume` or its id) at ``mount_path`` in a new pod.

    ::

        pod = await client.pods.create(..., volumes=[VolumeMount(vol, "/mnt/data")])

    The API documents two element shapes for ``persistentVolumes[]``: the guides'
    ``{volumeId, mountPath, needBackup}`` and the generated schema's
    ``{id, volumeType, mountPath, ...}``. The SDK sends the volume id under both
    ``volumeId`` and ``id`` (the API is Spring-based and ignores unknown fields), and
    sends ``needBackup``, ``volume_type`` and the other generated-schema fields only when
    you set them: how a volume's ``storageType`` maps onto ``volumeType`` is not
    documented, so the SDK does not guess it. What ``need_backup`` does is not documented.
    """

    volume: VolumeRef
    mount_path: str
    need_backup: bool | None = None
    volume_type: str | None = None
    mount_mode: str | None = None
