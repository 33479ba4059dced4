"""The pod as the API returns it (``PodV2Response``) and the nested types it shares with requests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ._base import Int64, Model
from .status import PodStatus, decode_status

__all__ = ["EnvVar", "ExposePort", "PersistentVolume", "Pod", "from_epoch_ms"]


class EnvVar(Model, kw_only=True):
    """One environment variable (``KeyValuePairDTO``)."""

    key: str
    value: str


class ExposePort(Model, kw_only=True):
    """A port to expose. In responses the proxy fields and ``healthy`` are filled in.

    >>> ExposePort(port=8888, protocol="http")
    ExposePort(port=8888, protocol='http')
    """

    port: int
    protocol: str | None = None
    proxy_port: int | None = None
    host: str | None = None
    healthy: bool | None = None
    ingress_url: str | None = None
    service_name: str | None = None


class PersistentVolume(Model, kw_only=True):
    """A persistent volume attached to the pod (request and response share this shape).

    Two request shapes are documented: the guides' ``{volumeId, mountPath, needBackup}``
    and the generated schema's ``{id, volumeType, mountPath, ...}``; this model holds
    either (or both: ``VolumeMount`` fills ``volume_id`` and ``id`` with the same id).
    Responses use the generated shape, where ``id`` is the volume's id.
    """

    mount_path: str
    volume_type: str | None = None
    volume_id: int | None = None
    need_backup: bool | None = None
    id: int | None = None
    name: str | None = None
    mount_mode: str | None = None
    volume_size: int | None = None
    volume_price: float | None = None
    cloud_storage_type: str | None = None
    system_volume_type: str | None = None
    system_volume_type_enum: str | None = None


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def from_epoch_ms(value: int | None) -> datetime | None:
    """Epoch milliseconds as an aware UTC ``datetime``, exact to the millisecond.

    ``None``, and values no ``datetime`` can hold (a server bug), give ``None``.

    >>> from_epoch_ms(1700000000123)
    datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    try:
        # timedelta keeps the milliseconds exact, where a float division may not.
        return _EPOCH + timedelta(milliseconds=value)
    except (OverflowError, ValueError, TypeError):
        return None


class Pod(Model, kw_only=True):
    """A pod (``PodV2Response``). Every field but ``id`` and ``status`` may be absent.

    ``created_at`` / ``updated_at`` are epoch milliseconds as sent; ``created`` and
    ``updated`` give the same instants as ``datetime``.
    """

    id: Int64
    if TYPE_CHECKING:
        status: PodStatus
    else:
        # The wire may carry a v1 integer status; __post_init__ turns it into a PodStatus.
        status: PodStatus | int
    org_id: int | None = None
    applicant_id: int | None = None
    name: str | None = None
    image_id: int | None = None
    official_image: str | None = None
    image_public_type: str | None = None
    image: str | None = None
    image_registry: str | None = None
    image_registry_username: str | None = None
    resource_type: str | None = None
    gpu_type: str | None = None
    gpu_display_name: str | None = None
    gpu_count: int | None = None
    shm_in_gb: int | None = None
    single_card_vram_in_gb: int | None = None
    single_card_ram_in_gb: int | None = None
    single_card_vcpu: int | None = None
    location: str | None = None
    region: str | None = None
    cloud_type: str | None = None
    container_volume_in_gb: int | None = None
    persistent_volume_in_gb: int | None = None
    persistent_mount_path: str | None = None
    network_upload_mbps: float | None = None
    network_download_mbps: float | None = None
    disk_read_speed_mbps: float | None = None
    disk_write_speed_mbps: float | None = None
    single_card_price: float | None = None
    persistent_volume_price: float | None = None
    container_volume_price: float | None = None
    initialization_command: str | None = None
    environment_vars: list[EnvVar] | None = None
    expose: list[ExposePort] | None = None
    ssh_cmd: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    persistent_volumes: list[PersistentVolume] | None = None
    internal_ip: str | None = None
    desired_state: str | None = None
    # Not in the documented PodV2Response; decoded when a server sends it.
    container_registry_auth_id: int | None = None

    def __post_init__(self) -> None:
        if type(self.status) is not PodStatus:
            self.status = decode_status(self.status)

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware UTC datetime."""
        return from_epoch_ms(self.created_at)

    @property
    def updated(self) -> datetime | None:
        """``updated_at`` as an aware UTC datetime."""
        return from_epoch_ms(self.updated_at)

    @property
    def volume_ids(self) -> list[int]:
        """The ids of the volumes mounted in this pod, in order (entries without one skipped)."""
        out = []
        for vol in self.persistent_volumes or ():
            vid = vol.volume_id if vol.volume_id is not None else vol.id
            if vid is not None:
                out.append(vid)
        return out

    @property
    def credential_id(self) -> int | None:
        """The registry credential the pod pulls its image with (``container_registry_auth_id``).

        ``None`` if the pod has none, or the server did not say: ``PodV2Response`` does not
        document the field, so a real server may leave it out.
        """
        return self.container_registry_auth_id

    def env(self, key: str) -> str | None:
        """The value of environment variable ``key`` on this pod, or ``None``."""
        for var in self.environment_vars or ():
            if var.key == key:
                return var.value
        return None
