"""Typed models of the Pods API v2 (msgspec Structs, snake_case in Python, camelCase on the wire)."""

from .create_fields import PodCreateFields
from .credential import RegistryCredential, RegistryType
from .gpu import GpuRegion, GpuType, Placement
from .pod import EnvVar, ExposePort, PersistentVolume, Pod, PortSelector, from_epoch_ms, parse_ssh_cmd
from .request import PodCreateRequest
from .status import PodStatus, StatusLike, StatusName, WaitUntil
from .volume import StorageType, VendorVolumeType, Volume, VolumeMount, VolumePage, VolumeStatus

__all__ = [
    "EnvVar",
    "ExposePort",
    "GpuRegion",
    "GpuType",
    "PersistentVolume",
    "Placement",
    "Pod",
    "PodCreateFields",
    "PodCreateRequest",
    "PodStatus",
    "PortSelector",
    "RegistryCredential",
    "RegistryType",
    "StatusLike",
    "StatusName",
    "StorageType",
    "VendorVolumeType",
    "Volume",
    "VolumeMount",
    "VolumePage",
    "VolumeStatus",
    "WaitUntil",
    "from_epoch_ms",
    "parse_ssh_cmd",
]
