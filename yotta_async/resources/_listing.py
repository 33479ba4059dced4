"""The watcher's view of a ``GET /v2/pods`` listing: pod ids first, snapshots only when needed.

The listing arrives as one ``msgspec.Raw`` slice per pod (``PodListing``); the watcher reads
each pod's id, and decodes a pod into a ``Pod`` only when someone waits on it and its JSON
changed. Those snapshots share their repeated values (a fleet has one image, a few regions,
one org) so that waiting on 10,000 pods holds one copy of each (``benchmarks/bench_memory.py``).
"""

from __future__ import annotations

import msgspec

from .._protocol import ReplyDecoder
from ..errors import ResponseDecodeError
from ..models import Pod
from ..models._base import Int64

__all__ = ["POD_DECODER", "listed_pod", "listed_pod_id"]

# One pod, as a reply's data (resources.pods re-exports it) and as one pod of a listing.
POD_DECODER: ReplyDecoder[Pod] = ReplyDecoder(Pod)


class _PodHead(msgspec.Struct):
    id: Int64


# Non-strict, as every reply decoder: ids sent as strings decode.
_POD_HEAD = msgspec.json.Decoder(_PodHead, strict=False)


def listed_pod_id(raw: msgspec.Raw) -> int:
    """The id of one pod of a raw listing, read without decoding the rest of it."""
    try:
        return _POD_HEAD.decode(raw).id
    except (msgspec.DecodeError, ValueError, TypeError, RecursionError) as exc:
        raise _bad_listed_pod(raw, exc) from exc


# Pod fields whose values repeat across a fleet (one image, a few regions and GPU types, one
# org): the watcher's snapshots share one copy of each value instead of one per pod.
_SHARED_FIELDS = (
    "org_id", "applicant_id", "official_image", "image_public_type", "image", "image_registry",
    "image_registry_username", "resource_type", "gpu_type", "gpu_display_name", "location",
    "region", "cloud_type", "persistent_mount_path", "network_upload_mbps",
    "network_download_mbps", "disk_read_speed_mbps", "disk_write_speed_mbps",
    "single_card_price", "persistent_volume_price", "container_volume_price",
    "initialization_command", "desired_state",
)
# The same inside the nested entries (hosts and protocols of exposed ports, env var names).
_SHARED_NESTED = (
    ("expose", ("protocol", "host")),
    ("environment_vars", ("key",)),
    ("persistent_volumes", ("volume_type", "mount_path", "volume_price", "cloud_storage_type")),
)
# Distinct values kept, module-wide (so up to this many stay alive after the clients close);
# past it they were not repeating, and the table starts again.
_SHARED_LIMIT = 1024
_shared_values: dict[object, object] = {}


def _share(obj: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None:
            # Non-strings by type and text: 1000 and 1000.0, or 2.49 and 2.490, are equal
            # but not the same value. (A Decimal's as_tuple() would keep a digit tuple alive.)
            key = value if type(value) is str else (type(value), str(value))
            if len(_shared_values) >= _SHARED_LIMIT:
                _shared_values.clear()  # many distinct values: they were not repeating after all
            setattr(obj, name, _shared_values.setdefault(key, value))


def listed_pod(raw: msgspec.Raw) -> Pod:
    """A watched pod's snapshot, its repeated values shared with the other snapshots."""
    try:
        pod = POD_DECODER.decode(raw)
    except (msgspec.DecodeError, ValueError, TypeError, RecursionError) as exc:
        raise _bad_listed_pod(raw, exc) from exc
    _share(pod, _SHARED_FIELDS)
    for field_name, names in _SHARED_NESTED:
        for entry in getattr(pod, field_name) or ():
            _share(entry, names)
    return pod


def _bad_listed_pod(raw: msgspec.Raw, exc: Exception) -> ResponseDecodeError:
    # No body snippet: this slice was never redacted, as parse_reply redacts a failed body.
    return ResponseDecodeError(
        f"data has the wrong shape ({exc})", http_status=200, method="GET", path="/v2/pods"
    )
