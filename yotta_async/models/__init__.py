"""Typed models of the Pods API v2 (msgspec Structs, snake_case in Python, camelCase on the wire)."""

from .create_fields import PodCreateFields
from .pod import EnvVar, ExposePort, PersistentVolume, Pod, from_epoch_ms
from .request import PodCreateRequest
from .status import PodStatus, StatusLike, StatusName, WaitUntil

__all__ = [
    "EnvVar",
    "ExposePort",
    "PersistentVolume",
    "Pod",
    "PodCreateFields",
    "PodCreateRequest",
    "PodStatus",
    "StatusLike",
    "StatusName",
    "WaitUntil",
    "from_epoch_ms",
]
