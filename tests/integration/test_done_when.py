"""The feature's "Done when": ``examples/launch_private_image.py`` against the simulator, SDK only."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest

from yotta_async import PodStatus, ResourceInUseError
from yotta_async.testing import Simulator

from .conftest import fast_client

PASSWORD = "done-when-registry-pa55word-91c2"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "launch_private_image.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("launch_private_image", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


async def test_the_launch_script_does_every_step(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    example = _example()
    sim.set_capacity("NVIDIA_H100_80G", "us-east-1", 0)
    sim.set_capacity("NVIDIA_H100_80G", "us-east-2", 0)
    lines: list[str] = []
    caplog.set_level(logging.DEBUG)
    async with fast_client(sim) as client:
        report = await example.launch_private_image(
            client, image="me/private:1", registry_user="me", registry_password=PASSWORD, log=lines.append
        )
    assert report.region == "us-east-3"  # the first region where H100 is available
    assert report.mount_count == 4 and len(report.pod_ids) == 4
    assert isinstance(report.refused, ResourceInUseError) and report.refused.mount_count == 4
    assert report.volume_gone and report.credential_gone
    assert sim.volumes() == [] and sim.credentials() == []
    assert {sim.status(pid) for pid in report.pod_ids} <= {PodStatus.TERMINATED, None}
    assert sim.live_pods() == 0
    assert sim.request_counts["POST /v2/container-registry-auths"] == 1
    assert sim.request_counts["DELETE /v2/volumes/{id}"] == 2  # refused once, then done
    # No password anywhere: the script's output, the DEBUG logs, the reprs.
    everything = "\n".join([*lines, caplog.text, repr(report), repr(report.refused), str(report.refused),
                            repr(sim), repr(sim.resources), repr(list(sim.resources.credentials.values()))])
    assert PASSWORD not in everything
    assert "mountCount = 4" in "\n".join(lines)


def test_the_script_runs_as_a_program(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = _example()
    monkeypatch.setattr("sys.argv", ["launch_private_image.py"])
    example.main()
    out = capsys.readouterr().out
    assert "mountCount = 4" in out and "credential" in out and "deleted" in out
