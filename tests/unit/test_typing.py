"""mypy catches typos and wrong types in keyword creates, ``until`` and ``statuses``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

USER_CODE = '''
from yotta_async import PodCreateRequest, PodStatus, RegistryCredential, Volume, VolumeMount, YottaClient


async def good(client: YottaClient, group_label: str) -> None:
    await client.pods.create(name="n", image="i", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    await client.pods.create(
        name="n", image="i", gpu_type="G", gpu_count=2, env={"MODE": "x"}, expose=[8888, "22/tcp"],
        region="us-east-1", image_public_type="PUBLIC", shm_in_gb=8, client_token="tok",
    )
    await client.pods.create(PodCreateRequest(name="n", image="i", gpu_type="G", gpu_count=1))
    await client.pods.wait_all([1, "2"], until="TERMINATED")
    await client.pods.wait_all([1], until=PodStatus.PAUSED)
    client.pods.as_completed([1], until="running")
    await client.pods.list(statuses=["RUNNING", PodStatus.PAUSED, "STOPPED", 3])
    async with client.pods.group(label=group_label) as group:
        await group.create(name="n", image="i", gpu_type="G", gpu_count=1)
        await group.launch(name="n", image="i", gpu_type="G", gpu_count=1, count=2)


async def bad(client: YottaClient) -> None:
    await client.pods.create(name="n", image="i", gpu_typ="G", gpu_count=1)  # E: typo
    await client.pods.create(name="n", image="i", gpu_type="G", gpu_count="1")  # E: str count
    await client.pods.create(name="n", image="i", gpu_type="G")  # E: no gpu_count
    await client.pods.wait_all([1], until="RUNING")  # E: typo
    client.pods.as_completed([1], until="FAILED")  # E: not a wait target
    await client.pods.list(statuses=["RUNING"])  # E: typo
    async with client.pods.group() as group:
        await group.create(name="n", image="i", gpu_type="G", gpu_cont=1)  # E: typo


async def good_launch_fields(client: YottaClient, cred: RegistryCredential, vol: Volume) -> None:
    await client.pods.create(name="n", image="i", gpu_type="G", gpu_count=1, container_registry_auth_id=cred,
                             volumes=[VolumeMount(vol, "/mnt/data"), VolumeMount(5, "/mnt/b")])
    await client.pods.create(name="n", image="i", gpu_type="G", gpu_count=1, container_registry_auth_id="12")


async def bad_launch_fields(c: YottaClient) -> None:
    await c.pods.create(name="n", image="i", gpu_type="G", gpu_count=1, volumes=[5])  # E: not a mount
    await c.pods.create(name="n", image="i", gpu_type="G", gpu_count=1, volume=[])  # E: typo
    await c.pods.create(name="n", image="i", gpu_type="G", gpu_count=1, container_registry_auth_id=[])  # E:
'''


def test_mypy_rejects_exactly_the_bad_calls(tmp_path: Path) -> None:
    source = tmp_path / "user_code.py"
    source.write_text(USER_CODE)
    out, err, _ = mypy_api.run([
        "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
        "--python-version", "3.10", str(source),
    ])
    errors = {int(m.group(1)) for m in re.finditer(r"user_code\.py:(\d+): error", out)}
    expected = {n for n, line in enumerate(USER_CODE.splitlines(), 1) if "# E:" in line}
    assert errors == expected, out + err


def test_the_typed_dict_is_right_at_run_time_too() -> None:
    from yotta_async.models import PodCreateFields, PodCreateRequest

    assert PodCreateFields.__required_keys__ == {"name", "image", "gpu_type", "gpu_count"}
    model_fields = set(PodCreateRequest.__struct_fields__)
    assert model_fields <= PodCreateFields.__optional_keys__ | PodCreateFields.__required_keys__
    assert PodCreateFields.__optional_keys__ - model_fields == {"env", "region"}  # build() shapes
