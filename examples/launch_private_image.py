"""Launch pods from a private image, with a volume mounted, where the GPU is available; clean up.

Run it as it is against the embedded simulator (nothing is billed, no account needed)::

    python examples/launch_private_image.py

or against the real API (it creates a credential, a 100 GB volume and four H100 pods, then
deletes them all; the registry password is read from a hidden prompt, never from argv)::

    YOTTA_API_KEY=... python examples/launch_private_image.py --real --image me/trainer:1 \\
        --registry-user me

The steps are the "Done when" of the feature: find where ``NVIDIA_H100_80G`` is available;
create a registry credential and a 100 GB CEPH volume and wait for it to be active; launch
four pods from the private image with the volume mounted, in that region, inside a group;
show the volume's ``mountCount`` at 4 and that deleting it is refused with a typed error;
leave the group (which deletes the pods), then delete the volume and the credential.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from yotta_async import PodCreateRequest, ResourceInUseError, VolumeMount, YottaClient

GPU = "NVIDIA_H100_80G"
COUNT = 4


@dataclass
class Report:
    """What the run saw, for a caller (or a test) to check."""

    region: str = ""
    credential_id: int = 0
    volume_id: int = 0
    pod_ids: tuple[int, ...] = ()
    mount_count: int = -1
    refused: ResourceInUseError | None = None
    volume_gone: bool = False
    credential_gone: bool = False


async def launch_private_image(
    client: YottaClient,
    *,
    image: str,
    registry_user: str,
    registry_password: str,
    log: Callable[[str], None] = print,
) -> Report:
    """Every step of the launch, with only SDK calls; returns what it saw."""
    report = Report()
    placements = await client.gpu_types.placements(GPU)
    log(f"{GPU}: " + ", ".join(f"{p.region} ({'available' if p.available else 'unavailable'})"
                               for p in placements))
    where = next((p for p in placements if p.available), None)
    if where is None:
        raise SystemExit(f"{GPU} is not available anywhere right now")
    report.region = where.region
    log(f"launching in {where.region}")

    cred = await client.credentials.create(
        name="private-registry", type="DOCKER_HUB", username=registry_user, password=registry_password
    )
    report.credential_id = cred.id
    log(f"registry credential {cred.id} created")
    try:
        # Whether a volume must share the pod's region is not documented: keep them together.
        volume = await client.volumes.create(
            name="training-data", storage_type="CEPH", region=where.region, size_in_gb=100
        )
        report.volume_id = volume.id
        volume = await client.volumes.wait_until_active(volume.id, timeout=600)
        log(f"volume {volume.id} is {volume.status} ({volume.size_in_gb} GB)")
        try:
            request = PodCreateRequest(
                name="trainer", image=image, gpu_type=where.gpu_type, gpu_count=1,
                regions=[where.region], container_registry_auth_id=cred,
                volumes=[VolumeMount(volume, "/mnt/data")],
            )
            async with client.pods.group(on_exit="delete") as group:
                pods = await group.launch(request, count=COUNT, wait=True, timeout=900)
                report.pod_ids = tuple(p.id for p in pods)
                log(f"{len(pods)} pods RUNNING: " + ", ".join(str(p.id) for p in pods))
                volume = await client.volumes.get(volume.id)
                report.mount_count = volume.mount_count
                log(f"volume {volume.id} mountCount = {volume.mount_count}")
                try:
                    await client.volumes.delete(volume.id)
                except ResourceInUseError as exc:
                    report.refused = exc
                    log(f"deleting it is refused: {type(exc).__name__} (mount_count={exc.mount_count})")
            log("left the group: its pods are TERMINATED")
        finally:
            await client.volumes.delete(report.volume_id)
            await client.volumes.wait_until_deleted(report.volume_id, timeout=600)
            report.volume_gone = True
            log(f"volume {report.volume_id} deleted")
    finally:
        await client.credentials.delete(cred.id)
        report.credential_gone = True
        log(f"credential {cred.id} deleted")
    return report


async def _simulated(image: str) -> Report:
    from yotta_async.testing import Simulator

    async with Simulator(time_scale=0.01) as sim, YottaClient(sim.api_key, sim.base_url) as client:
        sim.set_capacity(GPU, "us-east-1", 0)  # sold out where pods go by default
        password = secrets.token_urlsafe(16)  # a stand-in secret: never printed
        return await launch_private_image(
            client, image=image, registry_user="demo", registry_password=password
        )


async def _real(image: str, user: str) -> Report:
    password = getpass.getpass("Registry password (hidden): ")
    async with YottaClient() as client:
        return await launch_private_image(client, image=image, registry_user=user, registry_password=password)


def main() -> None:
    """Run against the simulator, or with ``--real`` against the API (YOTTA_API_KEY)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="use the real API (bills!)")
    parser.add_argument("--image", default="me/private-trainer:1")
    parser.add_argument("--registry-user", default="me")
    args = parser.parse_args()
    runner = _real(args.image, args.registry_user) if args.real else _simulated(args.image)
    asyncio.run(runner)


if __name__ == "__main__":
    main()
