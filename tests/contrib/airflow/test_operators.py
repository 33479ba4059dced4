"""Operator construction, templating and the pure helpers (the runs are in test_dag.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from yotta_async import READY, Placement, PodCreateRequest, PodStatus, ValidationError
from yotta_async.contrib.airflow import (
    YottaDeletePodsOperator,
    YottaLaunchPodsOperator,
    YottaPausePodsOperator,
)
from yotta_async.contrib.airflow._common import UNTIL, pod_ids_from, task_token_prefix, wait_target
from yotta_async.contrib.airflow.operators import _placement_lists

SPEC = {"name": "w", "image": "img", "gpu_type": "NVIDIA_H100_80G", "gpu_count": 1}


def test_spec_keywords_and_airflow_keywords_are_told_apart() -> None:
    op = YottaLaunchPodsOperator(task_id="launch", count=3, retries=2, env={"A": "1"}, region="us-east-1",
                                 **SPEC)
    assert op.retries == 2
    assert op.spec == {**SPEC, "env": {"A": "1"}, "region": "us-east-1"}
    requests = op._requests()
    assert [r.name for r in requests] == ["w-0", "w-1", "w-2"]
    assert requests[0].regions == ["us-east-1"]


def test_templated_fields_and_ui() -> None:
    assert "spec" in YottaLaunchPodsOperator.template_fields
    assert YottaDeletePodsOperator.template_fields == ("pod_ids",)
    assert YottaPausePodsOperator.template_fields == ("pod_ids",)
    ops = (YottaLaunchPodsOperator, YottaDeletePodsOperator, YottaPausePodsOperator)
    assert len({op.ui_color for op in ops}) == 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"count": 0, **SPEC}, "count"),
        ({"count": True, **SPEC}, "count"),
        ({"until": "ready-ish", **SPEC}, "until"),
        ({"on_failure": "explode", **SPEC}, "on_failure"),
        ({"placements": [], **SPEC}, "placements"),
        ({"placements": [("NVIDIA_H100_80G",)], **SPEC}, "placements[0]"),
        ({"placements": [("NVIDIA_H100_80G", "us-east-1")], "until": "paused", **SPEC}, "until"),
        ({"ready_ports": ["ssh"], **SPEC}, "ready_ports"),
        ({"probe": True, **SPEC}, "probe"),
        ({"until": "ready", "ready_ports": [True], **SPEC}, "ready_ports[0]"),
        ({"until": "ready", "ready_ports": [70000], **SPEC}, "ready_ports[0]"),
        ({"until": "ready", "probe": "yes", **SPEC}, "probe"),
        ({}, "spec"),
        ({"request": PodCreateRequest(**SPEC), "name": "x"}, "request"),
        ({"request": {"name": "x"}}, "request"),
        ({"timeout": -1, **SPEC}, "timeout"),
    ],
)
def test_bad_launch_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        YottaLaunchPodsOperator(task_id="launch", **kwargs)
    assert info.value.field == field


def test_a_bad_spec_is_refused_before_anything_is_sent() -> None:
    op = YottaLaunchPodsOperator(task_id="launch", **{**SPEC, "gpu_count": 0})
    with pytest.raises(ValidationError):
        op._requests()


def test_unknown_keywords_still_reach_airflow() -> None:
    with pytest.raises(TypeError):
        YottaLaunchPodsOperator(task_id="launch", not_a_thing=1, **SPEC)


def test_until_accepts_the_four_waits() -> None:
    assert set(UNTIL) == {"running", "ready", "paused", "terminated"}
    assert UNTIL["ready"] is READY
    for until in ("running", "Ready", "PAUSED", "Terminated"):
        assert YottaLaunchPodsOperator(task_id="t", until=until, **SPEC).until == until.lower()


def test_ready_ports_and_probe_narrow_the_ready_target() -> None:
    op = YottaLaunchPodsOperator(task_id="t", until="ready", ready_ports=("SSH", 8888), probe=True, **SPEC)
    assert (op.ready_ports, op.probe) == (["SSH", 8888], True)
    assert wait_target(op.until, op.ready_ports, op.probe) == READY(ports=["SSH", 8888], probe=True)
    assert wait_target("ready") is READY
    assert wait_target("running") is PodStatus.RUNNING


def test_placements_are_kept_as_json_lists_and_templated() -> None:
    op = YottaLaunchPodsOperator(
        task_id="t", count=2, name="w", image="img", gpu_count=1,
        placements=[Placement("NVIDIA_H100_80G", "us-east-1"), ("NVIDIA_H100_80G", "us-east-2"),
                    ["NVIDIA_H100_80G", "us-east-1"]])  # duplicates keep their first position
    assert op.placements == [["NVIDIA_H100_80G", "us-east-1"], ["NVIDIA_H100_80G", "us-east-2"]]
    assert "placements" in YottaLaunchPodsOperator.template_fields
    # a Jinja string is kept for rendering, and read once rendered
    templated = YottaLaunchPodsOperator(task_id="t", placements="{{ params.places }}", **SPEC)
    assert templated.placements == "{{ params.places }}"
    assert _placement_lists('[["A100", "eu-1"], ("H100", "us-1")]') == [["A100", "eu-1"], ["H100", "us-1"]]
    with pytest.raises(ValidationError) as info:
        _placement_lists("[[")
    assert info.value.field == "placements"


BIG = 2**63 - 1


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ([1, "2"], [1, 2]),
        ([{"id": str(BIG), "status": "RUNNING"}], [BIG]),
        (str(BIG), [BIG]),
        ("1, 2 3", [1, 2, 3]),
        (f"[{{'id': '{BIG}', 'name': 'x'}}]", [BIG]),  # a rendered xcom_pull of the launch's XCom
        ('["5", "6"]', [5, 6]),
        ([], []),
        ((7, 8), [7, 8]),
        (iter(["9"]), [9]),
        (4, [4]),
    ],
)
def test_pod_ids_come_in_every_shape_a_dag_hands_over(value: object, ids: list[int]) -> None:
    assert pod_ids_from(value) == ids


@pytest.mark.parametrize("value", [None, 3.5, "[1,", [{"name": "x"}], ["-1"], [2**63]])
def test_bad_pod_ids_are_validation_errors(value: object) -> None:
    with pytest.raises(ValidationError):
        pod_ids_from(value)


def test_token_prefix_is_per_task_instance_and_in_the_sdk_alphabet() -> None:
    a = task_token_prefix("dag with spaces/ü", "task", "manual__2025-01-01T00:00:00+00:00", -1)
    assert a == task_token_prefix("dag with spaces/ü", "task", "manual__2025-01-01T00:00:00+00:00", -1)
    assert a != task_token_prefix("dag with spaces/ü", "task", "manual__2025-01-01T00:00:00+00:00", 0)
    # the SDK's token rule (client.pods.create's client_token): 1-128 of [A-Za-z0-9_.:-]
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}", f"{a}999-t99")


def test_pod_records_read_ssh_as_the_sdk_does() -> None:
    # One ssh-command parser (Pod.ssh_endpoint): "-p" before the host counts too.
    from yotta_async import Pod
    from yotta_async.contrib.airflow._common import pod_record

    pod = Pod(id=1, status="RUNNING", ssh_cmd="ssh -p 30056 root@8hd.op1.yottalabs.ai")
    assert pod_record(pod)["ssh"] == {"host": "8hd.op1.yottalabs.ai", "port": 30056}
    assert pod_record(Pod(id=2, status="RUNNING"))["ssh"] is None


def test_pod_ids_follow_the_sdks_id_rule() -> None:
    for bad in ("\u00b2", "0", True):
        with pytest.raises(ValidationError):
            pod_ids_from([bad])
