"""The simulator's registry credentials and volumes: state, lifecycles, and what pods hold of them."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..models import PodCreateRequest
from ._state import PodStore, SimPod

__all__ = [
    "CREDENTIAL_TYPES",
    "STORAGE_TYPES",
    "ResourceStore",
    "ResourceTimings",
    "SimCredential",
    "SimVolume",
]

CREDENTIAL_TYPES = ("DOCKER_HUB", "GCR", "ECR", "ACR", "PRIVATE")
STORAGE_TYPES = ("S3", "CEPH", "VENDOR", "R2")
VENDOR_TYPES = ("NVMe", "HDD")
# How a volume's storage type shows on a pod's persistentVolumes[] (the mapping is not
# documented; the generated response schema says "Ceph or CloudStorage").
POD_VOLUME_TYPE = {"CEPH": "Ceph", "S3": "CloudStorage", "R2": "CloudStorage", "VENDOR": "Vendor"}
_PRICE_PER_GB_HOUR = 0.00007


@dataclass(frozen=True)
class ResourceTimings:
    """How long volume phases last, in simulated seconds (``time_scale`` applies).

    ``deleting=0`` makes a delete take effect at once (the docs do not say which it is).
    """

    creating: float = 10.0
    resizing: float = 20.0
    deleting: float = 3.0


@dataclass(eq=False)
class SimCredential:
    """A stored registry credential. The password is kept only as a salted digest."""

    id: int
    name: str
    type: str
    username: str
    created_ms: int
    digest: bytes = field(repr=False)
    salt: bytes = field(repr=False)


@dataclass(eq=False)
class SimVolume:
    """A volume: static fields plus a timeline of (start time, status)."""

    id: int
    name: str
    storage_type: str
    region: str | None
    size_in_gb: int | None
    vendor_volume_type: str | None
    created_ms: int
    timeline: list[tuple[float, str]]
    resized: tuple[float, int] | None = None  # (when the resize completes, the new size)
    gone_at: float | None = None

    def status(self, now: float) -> str:
        """The status at ``now``."""
        current = self.timeline[0][1]
        for start, status in self.timeline:
            if start <= now:
                current = status
        return current

    def size(self, now: float) -> int | None:
        """The size at ``now`` (a resize counts once it completes)."""
        if self.resized is not None and now >= self.resized[0]:
            return self.resized[1]
        return self.size_in_gb


class ResourceStore:
    """Credentials and volumes, tied to the pod store: which live pods use which of them.

    Registered with the pod store as an admission check (a pod naming an unknown
    credential, or an unknown or non-active volume, is refused) and a create hook (the pod
    is recorded as a user, and its ``persistentVolumes`` show the volume as it is).
    """

    def __init__(self, pods: PodStore, *, timings: ResourceTimings | None = None, seed: int = 0) -> None:
        self.pods = pods
        self.timings = timings or ResourceTimings()
        self.credentials: dict[int, SimCredential] = {}
        self.volumes: dict[int, SimVolume] = {}
        self._users: dict[int, dict[int, SimPod]] = {}  # credential id -> pods using it
        self._mounts: dict[int, dict[int, SimPod]] = {}  # volume id -> pods mounting it
        self._rng = random.Random(seed ^ 0x5EED)
        self._next_volume = 0
        self._next_credential = 0
        self.echo_credential_id = True
        pods.admission.append(self.admit)
        pods.on_create.append(self.attach)

    # -- time ---------------------------------------------------------------------------
    def now(self) -> float:
        """The shared clock's time."""
        return self.pods.now()

    def _scaled(self, seconds: float) -> float:
        return seconds * self.pods.time_scale

    # -- credentials ---------------------------------------------------------------------
    def add_credential(self, name: str, type: str, username: str, password: str) -> SimCredential:
        """Store a credential (the password as a salted digest only)."""
        self._next_credential += 1
        millis = 91_650_000_000 + self._next_credential
        cid = (millis << 22) | (7 << 12) | self._rng.getrandbits(12)  # 18-19 digits, like the API's
        salt = secrets.token_bytes(16)
        cred = SimCredential(cid, name, type, username, self.pods.epoch_ms(self.now()),
                             _digest(password, salt), salt)
        self.credentials[cid] = cred
        return cred

    def set_password(self, cred: SimCredential, password: str) -> None:
        """Replace a credential's password (its digest)."""
        cred.salt = secrets.token_bytes(16)
        cred.digest = _digest(password, cred.salt)

    def password_matches(self, cred: SimCredential, password: str) -> bool:
        """Whether ``password`` is the credential's password (constant-time)."""
        return hmac.compare_digest(cred.digest, _digest(password, cred.salt))

    def credential_users(self, cid: int) -> list[SimPod]:
        """The live pods created with this credential."""
        return self._live(self._users.get(cid))

    # -- volumes -------------------------------------------------------------------------
    def add_volume(
        self,
        name: str,
        storage_type: str,
        region: str | None = None,
        size_in_gb: int | None = None,
        vendor_volume_type: str | None = None,
        *,
        active: bool = False,
    ) -> SimVolume:
        """Create a volume: ``creating`` for ``timings.creating``, then ``active``."""
        self._next_volume += 1
        now = self.now()
        ready = now if active else now + self._scaled(self.timings.creating)
        timeline = [(now, "creating"), (ready, "active")] if ready > now else [(now, "active")]
        sized = storage_type in ("CEPH", "VENDOR")
        volume = SimVolume(
            id=100_000 + self._next_volume,
            name=name,
            storage_type=storage_type,
            region=region,
            size_in_gb=size_in_gb if sized else None,
            vendor_volume_type=vendor_volume_type if storage_type == "VENDOR" else None,
            created_ms=self.pods.epoch_ms(now),
            timeline=timeline,
        )
        self.volumes[volume.id] = volume
        return volume

    def volume(self, vid: int) -> SimVolume | None:
        """The volume, or ``None`` if it never existed or is gone."""
        volume = self.volumes.get(vid)
        if volume is not None and volume.gone_at is not None and self.now() >= volume.gone_at:
            del self.volumes[vid]
            self._mounts.pop(vid, None)
            return None
        return volume

    def iter_volumes(self) -> Iterator[SimVolume]:
        """Every volume still there, in creation order."""
        for vid in list(self.volumes):
            volume = self.volume(vid)
            if volume is not None:
                yield volume

    def mount_count(self, vid: int) -> int:
        """Live pods mounting the volume now."""
        return len(self._live(self._mounts.get(vid)))

    def mounting_pods(self, vid: int) -> list[SimPod]:
        """The live pods mounting the volume."""
        return self._live(self._mounts.get(vid))

    def start_resize(self, volume: SimVolume, size: int) -> None:
        """``active`` -> ``resizing`` -> ``active`` with the new size."""
        now = self.now()
        done = now + self._scaled(self.timings.resizing)
        volume.size_in_gb = volume.size(now)
        volume.timeline = [(now, "resizing"), (done, "active")] if done > now else [(now, "active")]
        volume.resized = (done, size)

    def start_delete(self, volume: SimVolume) -> None:
        """``deleting`` for ``timings.deleting``, then gone (404)."""
        now = self.now()
        volume.size_in_gb = volume.size(now)
        volume.resized = None
        volume.timeline = [(now, "deleting")]
        volume.gone_at = now + self._scaled(self.timings.deleting)
        if volume.gone_at <= now:
            self.volumes.pop(volume.id, None)
            self._mounts.pop(volume.id, None)

    def render_volume(self, volume: SimVolume, *, string_ids: bool, upper: bool) -> dict[str, Any]:
        """The volume as the API returns it."""
        now = self.now()
        status = volume.status(now)
        size = volume.size(now)
        return {
            "id": str(volume.id) if string_ids else volume.id,
            "name": volume.name,
            "sizeInGb": size,
            "region": volume.region,
            "storageType": volume.storage_type,
            "status": status.upper() if upper else status,
            "vendorVolumeType": volume.vendor_volume_type,
            "mountCount": self.mount_count(volume.id),
            "cost": round((size or 0) * _PRICE_PER_GB_HOUR, 6),
            "createdAt": volume.created_ms,
        }

    def render_credential(self, cred: SimCredential, *, string_ids: bool, created_at: str) -> dict[str, Any]:
        """The credential as the API returns it: never a password, nor (undocumented) a username."""
        out: dict[str, Any] = {
            "id": str(cred.id) if string_ids else cred.id,
            "name": cred.name,
            "type": cred.type,
        }
        if created_at == "iso":
            when = datetime.fromtimestamp(cred.created_ms / 1000, tz=timezone.utc)
            out["createdAt"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif created_at == "epoch":
            out["createdAt"] = cred.created_ms
        return out

    # -- pods that use them --------------------------------------------------------------
    def admit(self, req: PodCreateRequest) -> tuple[int, str] | None:
        """Why a pod create must be refused ``(code, message)``, or ``None`` to accept it."""
        cid = req.container_registry_auth_id
        if cid is not None and cid not in self.credentials:
            return 10001, f"containerRegistryAuthId: registry credential {cid} does not exist"
        for i, entry in enumerate(req.persistent_volumes or ()):
            vid = entry.volume_id if entry.volume_id is not None else entry.id
            if vid is None:
                continue  # the legacy shape: the API provisions the volume itself
            volume = self.volume(vid)
            if volume is None:
                return 10001, f"persistentVolumes[{i}].volumeId: volume {vid} does not exist"
            status = volume.status(self.now())
            if status != "active":
                return 12001, (f"resource status invalid: volume {vid} is {status}; "
                               "only an active volume can be mounted")
        return None

    def attach(self, pod: SimPod, req: PodCreateRequest) -> None:
        """Record the pod as a user of its credential and volumes; show them on the pod."""
        cid = req.container_registry_auth_id
        if isinstance(cid, int):  # validation made it an int
            self._users.setdefault(cid, {})[pod.id] = pod
            if self.echo_credential_id:
                pod.base["containerRegistryAuthId"] = cid
        rendered = pod.base.get("persistentVolumes") or []
        for i, entry in enumerate(req.persistent_volumes or ()):
            vid = entry.volume_id if entry.volume_id is not None else entry.id
            volume = self.volume(vid) if vid is not None else None
            if volume is None or i >= len(rendered):
                continue
            self._mounts.setdefault(volume.id, {})[pod.id] = pod
            size = volume.size(self.now())
            shown: dict[str, Any] = {
                "id": volume.id,
                "name": volume.name,
                "volumeType": entry.volume_type or POD_VOLUME_TYPE.get(volume.storage_type, "Ceph"),
                "volumeSize": size or 0,
                "volumePrice": round((size or 0) * _PRICE_PER_GB_HOUR, 6),
                "mountPath": entry.mount_path,
            }
            if volume.storage_type in ("S3", "R2"):
                shown["cloudStorageType"] = volume.storage_type
            rendered[i] = shown

    def _live(self, holders: dict[int, SimPod] | None) -> list[SimPod]:
        if not holders:
            return []
        live = []
        for pod_id, pod in list(holders.items()):
            if self.pods.holds_gpus(pod):
                live.append(pod)
            else:
                del holders[pod_id]  # a TERMINATED or FAILED pod lets go for good
        return live

    def __repr__(self) -> str:
        return f"ResourceStore(credentials={len(self.credentials)}, volumes={len(self.volumes)})"


def _digest(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8", "surrogatepass"), salt, 1000)
