"""The pod as the API returns it (``PodV2Response``) and the nested types it shares with requests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ._base import Model
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
    """A persistent volume attached to the pod (request and response share this shape)."""

    mount_path: str
    volume_type: str
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

    A ``Pod`` is a snapshot, often shared (one poll serves every waiter), so its nested
    collections ``environment_vars``, ``expose`` and ``persistent_volumes`` are tuples.
    Tuples are cheaper to build than lists and cost the garbage collector nothing once
    checked, and fields are declared in the order the API sends them (``status`` after
    ``ssh_cmd``), so a big listing decodes faster (``benchmarks/bench_decode.py``).
    """

    id: int
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
    environment_vars: tuple[EnvVar, ...] | None = None
    expose: tuple[ExposePort, ...] | None = None
    ssh_cmd: str | None = None
    if TYPE_CHECKING:
        status: PodStatus
    else:
        # The wire may carry a v1 integer status; __post_init__ turns it into a PodStatus.
        status: PodStatus | int
    created_at: int | None = None
    updated_at: int | None = None
    persistent_volumes: tuple[PersistentVolume, ...] | None = None
    internal_ip: str | None = None
    desired_state: str | None = None

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

    def env(self, key: str) -> str | None:
        """The value of environment variable ``key`` on this pod, or ``None``."""
        for var in self.environment_vars or ():
            if var.key == key:
                return var.value
        return None
