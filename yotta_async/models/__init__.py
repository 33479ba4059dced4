"""Typed models of the Pods API v2 (msgspec Structs, snake_case in Python, camelCase on the wire)."""

from .create_fields import PodCreateFields
from .gpu import GpuRegion, GpuType, Placement
from .pod import EnvVar, ExposePort, PersistentVolume, Pod, PortSelector, from_epoch_ms, parse_ssh_cmd
from .request import PodCreateRequest
from .status import PodStatus, StatusLike, StatusName, WaitUntil

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
    "StatusLike",
    "StatusName",
    "WaitUntil",
    "from_epoch_ms",
    "parse_ssh_cmd",
]
