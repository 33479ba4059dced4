"""A realistic ``GET /v2/pods`` body: every ``PodV2Response`` field, nested lists, int64 ids."""

from __future__ import annotations

import json
from typing import Any

_STATUSES = ("RUNNING", "RUNNING", "RUNNING", "INITIALIZING", "PAUSED", "PENDING", "TERMINATED")
_GPUS = (
    ("NVIDIA_H100_80G", "H100 SXM 80G", 80, 188, 24, 2.49),
    ("NVIDIA_RTX_4090_24G", "RTX 4090 24G", 24, 62, 16, 0.69),
    ("NVIDIA_A100_80G", "A100 SXM 80G", 80, 117, 16, 1.49),
)
_REGIONS = (("us-east-1", "Virginia, US"), ("us-west-1", "California, US"), ("ap-southeast-1", "Singapore"))


def pod_dict(i: int) -> dict[str, Any]:
    """Pod number ``i`` as the API sends it (camelCase keys, ids above 2**53)."""
    pod_id = 331_864_222_263_676_928 + i * 7919
    gpu, display, vram, ram, vcpu, price = _GPUS[i % len(_GPUS)]
    region, location = _REGIONS[i % len(_REGIONS)]
    host = f"{region}.proxy.yottalabs.ai"
    status = _STATUSES[i % len(_STATUSES)]
    return {
        "id": pod_id,
        "orgId": 1_764_019_118_071_808_000,
        "applicantId": 1_764_019_118_088_585_216,
        "name": f"train-{i:05d}",
        "imageId": 1_000_000 + i % 17,
        "officialImage": "CUSTOM",
        "imagePublicType": "PUBLIC",
        "image": "nvidia/cuda:12.1.0-base-ubuntu22.04",
        "imageRegistry": "docker.io",
        "resourceType": "GPU",
        "gpuType": gpu,
        "gpuDisplayName": display,
        "gpuCount": 1 << (i % 4),
        "shmInGb": 16,
        "singleCardVramInGb": vram,
        "singleCardRamInGb": ram,
        "singleCardVcpu": vcpu,
        "location": location,
        "region": region,
        "cloudType": "SECURE",
        "containerVolumeInGb": 50,
        "persistentVolumeInGb": 100,
        "persistentMountPath": "/workspace",
        "networkUploadMbps": 1000.0,
        "networkDownloadMbps": 2500.0,
        "diskReadSpeedMbps": 2000.0,
        "diskWriteSpeedMbps": 1500.0,
        "singleCardPrice": price,
        "persistentVolumePrice": 0.007,
        "containerVolumePrice": 0.0,
        "initializationCommand": "pip install -r /workspace/requirements.txt",
        "environmentVars": [
            {"key": "MODE", "value": "train"},
            {"key": "RUN_ID", "value": f"run-{i}"},
            {"key": "HF_HOME", "value": "/workspace/hf"},
        ],
        "expose": [
            {
                "port": 22,
                "proxyPort": 20000 + i,
                "protocol": "SSH",
                "host": host,
                "healthy": True,
                "serviceName": f"pod-{pod_id}-22",
            },
            {
                "port": 8888,
                "proxyPort": 30000 + i,
                "protocol": "http",
                "host": host,
                "healthy": status == "RUNNING",
                "ingressUrl": f"https://{pod_id}-8888.{region}.yottalabs.ai",
                "serviceName": f"pod-{pod_id}-8888",
            },
        ],
        "sshCmd": f"ssh root@{host} -p {20000 + i}",
        "status": status,
        "createdAt": 1_735_689_600_000 + i * 1000,
        "updatedAt": 1_735_689_700_000 + i * 1000,
        "persistentVolumes": [
            {
                "id": pod_id + 1,
                "name": f"pv-{i}",
                "volumeType": "NFS",
                "volumeSize": 100,
                "volumePrice": 0.007,
                "mountPath": "/data",
            },
        ],
        "internalIp": f"10.0.{(i >> 8) & 0xFF}.{i & 0xFF or 1}",
        "desiredState": "PAUSED" if status == "PAUSED" else "RUNNING",
    }


def list_body(n: int) -> bytes:
    """The full ``GET /v2/pods`` response envelope for ``n`` pods, as bytes off the wire."""
    envelope = {"code": 10000, "message": "success", "data": [pod_dict(i) for i in range(n)]}
    return json.dumps(envelope, separators=(",", ":")).encode()
