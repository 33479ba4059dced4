"""Typed models of the Pods API v2 (msgspec Structs, snake_case in Python, camelCase on the wire)."""

from .credential import RegistryCredential, RegistryType
from .gpu import GpuRegion, GpuType, Placement
from .pod import EnvVar, ExposePort, PersistentVolume, Pod, from_epoch_ms
from .request import PodCreateRequest
from .status import PodStatus
from .volume import StorageType, VendorVolumeType, Volume, VolumeMount, VolumePage, VolumeStatus

__all__ = [
    "EnvVar",
    "ExposePort",
    "GpuRegion",
    "GpuType",
    "PersistentVolume",
    "Placement",
    "Pod",
    "PodCreateRequest",
    "PodStatus",
    "RegistryCredential",
    "RegistryType",
    "StorageType",
    "VendorVolumeType",
    "Volume",
    "VolumeMount",
    "VolumePage",
    "VolumeStatus",
    "from_epoch_ms",
]
