"""Plausible ``PodV2Response`` bodies: the GPU catalogue, regions and per-pod JSON encoding."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

import msgspec

from ..models import PodCreateRequest

__all__ = [
    "DEFAULT_REGION",
    "EPOCH_BASE_MS",
    "PRICE_FORMATS",
    "GpuSpec",
    "PriceFormat",
    "ProtocolCase",
    "catalogue_types",
    "gpu_spec",
    "location_of",
    "render",
    "static_fields",
]

# How prices go on the wire: the OpenAPI types them as numbers, a documented reply shows
# ``"singleCardPrice": "0.65"`` (resources spec §4.3). Clients must accept both.
PriceFormat = Literal["number", "string"]
PRICE_FORMATS: tuple[PriceFormat, ...] = ("number", "string")
# Per GB-hour (the documented reading of the units). Container disk is free up to 256 GB.
CONTAINER_GB_PRICE = Decimal("0.00005")
FREE_CONTAINER_GB = 256
PERSISTENT_GB_PRICE = Decimal("0.00007")
VOLUME_GB_PRICE = Decimal("0.00007")

ProtocolCase = Literal["upper", "lower"] | None

# 2025-01-01T00:00:00Z: sim time zero maps here, so timestamps look like real ones.
EPOCH_BASE_MS = 1_735_689_600_000
DEFAULT_REGION = "us-east-1"
ORG_ID = 1_764_019_118_071_808_000
APPLICANT_ID = 1_764_019_118_088_585_216


class GpuSpec(msgspec.Struct, frozen=True):
    """What one GPU type offers, per card."""

    display_name: str
    vram_gb: int
    ram_gb: int
    vcpu: int
    price: Decimal  # per GPU-hour


_CATALOG = {
    "NVIDIA_RTX_4090_24G": GpuSpec("RTX 4090 24G", 24, 62, 16, Decimal("0.69")),
    "NVIDIA_RTX_5090_32G": GpuSpec("RTX 5090 32G", 32, 94, 16, Decimal("0.99")),
    "NVIDIA_RTX_A6000_48G": GpuSpec("RTX A6000 48G", 48, 62, 12, Decimal("0.79")),
    "NVIDIA_A100_80G": GpuSpec("A100 SXM 80G", 80, 117, 16, Decimal("1.49")),
    "NVIDIA_H100_80G": GpuSpec("H100 SXM 80G", 80, 188, 24, Decimal("2.49")),
    "NVIDIA_H200_141G": GpuSpec("H200 SXM 141G", 141, 235, 28, Decimal("3.59")),
    "NVIDIA_B200_180G": GpuSpec("B200 180G", 180, 282, 32, Decimal("5.49")),
    "AMD_MI300X_192G": GpuSpec("MI300X 192G", 192, 235, 24, Decimal("2.99")),
}
_LOCATIONS = {
    "us-east-1": "Virginia, US",
    "us-east-2": "Ohio, US",
    "us-east-3": "Georgia, US",
    "us-west-1": "California, US",
    "ap-southeast-1": "Singapore",
}
_VRAM = re.compile(r"(\d+)G$")


def gpu_spec(gpu_type: str) -> GpuSpec:
    """The catalogue entry for ``gpu_type``; unknown types (e.g. without ``NVIDIA_``) are guessed."""
    spec = _CATALOG.get(gpu_type) or _CATALOG.get(f"NVIDIA_{gpu_type}")
    if spec is not None:
        return spec
    match = _VRAM.search(gpu_type)
    vram = int(match.group(1)) if match else 24
    name = gpu_type.removeprefix("NVIDIA_").removeprefix("AMD_").replace("_", " ")
    return GpuSpec(name, vram, max(32, vram), 8, Decimal("0.02") * vram)


def catalogue_types() -> list[str]:
    """The GPU types the simulator knows by name, in catalogue order."""
    return list(_CATALOG)


def location_of(region: str) -> str:
    """A human-readable location for a region code."""
    return _LOCATIONS.get(region, region)


def _wire_price(value: Decimal | float, price_format: PriceFormat) -> Decimal | str:
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return str(exact) if price_format == "string" else exact


def static_fields(
    pod_id: int,
    req: PodCreateRequest,
    region: str,
    created_ms: int,
    price_format: PriceFormat = "number",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fields of a pod that never change, in wire order, and its expose entries.

    ``status``, ``updatedAt``, ``desiredState`` and ``expose[].healthy`` are filled per
    render; placeholders keep the key order stable. Prices are per GPU-hour and per
    GB-hour, sent as JSON numbers or as decimal strings (``price_format``).
    """
    spec = gpu_spec(req.gpu_type)
    count = req.gpu_count
    host = f"{region}.proxy.sim.yottalabs.ai"
    proxy_base = 20000 + pod_id % 40000
    private = req.image_public_type == "PRIVATE" or req.container_registry_auth_id is not None
    expose: list[dict[str, Any]] = []
    for i, port in enumerate(req.expose or ()):
        protocol = port.protocol or "http"
        entry: dict[str, Any] = {
            "port": port.port,
            "proxyPort": proxy_base + 1 + i,
            "protocol": protocol,
            "host": host,
            "healthy": False,
            "serviceName": f"pod-{pod_id}-{port.port}",
        }
        if protocol.lower() in ("http", "https"):
            entry["ingressUrl"] = f"https://{pod_id}-{port.port}.{region}.sim.yottalabs.ai"
        expose.append(entry)
    volumes = []
    for i, vol in enumerate(req.persistent_volumes or ()):
        volumes.append(
            {
                "id": vol.id if vol.id is not None else pod_id + 1 + i,
                "name": vol.name or f"pv-{pod_id}-{i}",
                "volumeType": vol.volume_type,
                "volumeSize": vol.volume_size if vol.volume_size is not None else 100,
                "volumePrice": _wire_price(
                    vol.volume_price if vol.volume_price is not None else VOLUME_GB_PRICE, price_format
                ),
                "mountPath": vol.mount_path,
                **({"cloudStorageType": vol.cloud_storage_type} if vol.cloud_storage_type else {}),
                **({"systemVolumeType": vol.system_volume_type} if vol.system_volume_type else {}),
            }
        )
    persistent_gb = req.persistent_volume_in_gb or 0
    container_gb = req.container_volume_in_gb or 50
    container_price = CONTAINER_GB_PRICE if container_gb > FREE_CONTAINER_GB else Decimal(0)
    base: dict[str, Any] = {
        "id": pod_id,
        "orgId": ORG_ID,
        "applicantId": APPLICANT_ID,
        "name": req.name,
        "imageId": 1_000_000 + zlib.crc32(req.image.encode()) % 9_000_000,
        "officialImage": "OFFICIAL" if req.image.startswith("yottalabs/") else "CUSTOM",
        "imagePublicType": "PRIVATE" if private else "PUBLIC",
        "image": req.image,
        "imageRegistry": req.image_registry or "docker.io",
        **({"imageRegistryUsername": "sim-registry-user"} if private else {}),
        "resourceType": req.resource_type or "GPU",
        "gpuType": req.gpu_type,
        "gpuDisplayName": spec.display_name,
        "gpuCount": count,
        "shmInGb": req.shm_in_gb if req.shm_in_gb is not None else 16 * count,
        "singleCardVramInGb": max(spec.vram_gb, req.min_single_card_vram_in_gb or 0),
        "singleCardRamInGb": max(spec.ram_gb, req.min_single_card_ram_in_gb or 0),
        "singleCardVcpu": max(spec.vcpu, req.min_single_card_vcpu or 0),
        "location": location_of(region),
        "region": region,
        "cloudType": "SECURE",
        "containerVolumeInGb": container_gb,
        "persistentVolumeInGb": persistent_gb,
        "persistentMountPath": "/workspace",
        "networkUploadMbps": 1000.0,
        "networkDownloadMbps": 2500.0,
        "diskReadSpeedMbps": 2000.0,
        "diskWriteSpeedMbps": 1500.0,
        "singleCardPrice": _wire_price(spec.price, price_format),
        "persistentVolumePrice": _wire_price(PERSISTENT_GB_PRICE, price_format),
        "containerVolumePrice": _wire_price(container_price, price_format),
        "initializationCommand": req.initialization_command or "",
        # Echoed exactly: clients keep idempotency tokens in here.
        "environmentVars": [{"key": v.key, "value": v.value} for v in req.environment_vars or ()],
        "expose": expose,
        "sshCmd": f"ssh root@{host} -p {proxy_base}",
        "status": "PENDING",
        "createdAt": created_ms,
        "updatedAt": created_ms,
        "persistentVolumes": volumes,
        "internalIp": f"10.{(pod_id >> 16) & 0xFF}.{(pod_id >> 8) & 0xFF}.{pod_id & 0xFF or 1}",
        "desiredState": "RUNNING",
    }
    return base, expose


_ENCODER = msgspec.json.Encoder(decimal_format="number")


def render(
    base: dict[str, Any],
    expose: list[dict[str, Any]],
    *,
    status: str,
    updated_ms: int,
    desired: str,
    healthy: Sequence[bool],
    protocol_case: ProtocolCase = None,
) -> bytes:
    """Encode one pod as JSON for its current status; ``healthy`` has one flag per entry.

    ``protocol_case`` rewrites each entry's ``protocol`` in ``"upper"`` or ``"lower"`` case
    (``None``: as the create request sent it).
    """
    body = dict(base)
    body["status"] = status
    body["updatedAt"] = updated_ms
    body["desiredState"] = desired
    if expose:
        entries = []
        for entry, flag in zip(expose, healthy, strict=True):
            entry = {**entry, "healthy": flag}
            if protocol_case is not None and isinstance(entry.get("protocol"), str):
                proto = entry["protocol"]
                entry["protocol"] = proto.upper() if protocol_case == "upper" else proto.lower()
            entries.append(entry)
        body["expose"] = entries
    return _ENCODER.encode(body)
