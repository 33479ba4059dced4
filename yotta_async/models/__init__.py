"""Typed models of the Pods API v2 (msgspec Structs, snake_case in Python, camelCase on the wire)."""

from .gpu import GpuRegion, GpuType, Placement
from .pod import EnvVar, ExposePort, PersistentVolume, Pod, PortSelector, from_epoch_ms, parse_ssh_cmd
from .request import PodCreateRequest
from .status import PodStatus

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
    "PortSelector",
    "from_epoch_ms",
    "parse_ssh_cmd",
]
