"""``yotta-async pods ...`` as a subprocess against a simulator process, in both output modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import SimProcess

SPEC = ["--image", "nvidia/cuda:12.1.0-base-ubuntu22.04", "--gpu-type", "NVIDIA_H100_80G"]


def _create(cli: Any, name: str, *extra: str) -> dict[str, Any]:
    result = cli("-o", "json", "pods", "create", "--name", name, *SPEC, *extra)
    assert result.code == 0, result.err
    pod: dict[str, Any] = result.json()
    return pod


def test_create_from_flags_reaches_every_kind_of_field(cli: Any) -> None:
    pod = _create(
        cli, "flags",
        "--gpu-count", "2", "--region", "us-east-2", "--env", "MODE=train", "--env", "EMPTY=x=y",
        "--expose", "8888/http", "--expose", "22", "--init-cmd", "echo hi",
        "--shm-in-gb", "32", "--container-volume-in-gb", "100", "--resource-type", "gpu",
        "--volume", "/data:NFS", "--volume", "mount_path=/models,volume_type=CloudStorage,volume_size=10",
    )
    assert pod["name"] == "flags" and pod["gpuCount"] == 2 and pod["region"] == "us-east-2"
    assert pod["status"] == "PENDING" and isinstance(pod["id"], int) and pod["id"] > 2**53
    env = {v["key"]: v["value"] for v in pod["environmentVars"]}
    assert env["MODE"] == "train" and env["EMPTY"] == "x=y"
    ports = [(e["port"], e.get("protocol")) for e in pod["expose"]][:2]
    assert ports == [(8888, "http"), (22, "http")]  # the simulator defaults the protocol to http
    assert pod["initializationCommand"] == "echo hi" and pod["shmInGb"] == 32
    assert [v["mountPath"] for v in pod["persistentVolumes"]] == ["/data", "/models"]


def test_create_table_mode_and_wait(cli: Any) -> None:
    result = cli("pods", "create", "--name", "waited", *SPEC, "--wait", "--timeout", "30")
    assert result.code == 0, result.err
    assert "waited" in result.out and "RUNNING" in result.out
    assert result.out.splitlines()[0].startswith("id ")  # a field/value table, not JSON


def test_create_from_file_with_flag_override(cli: Any, tmp_path: Path) -> None:
    spec = {
        "name": "from-file", "image": "img:1", "gpuType": "NVIDIA_A100_80G", "gpuCount": 4,
        "environmentVars": [{"key": "A", "value": "1"}], "expose": [{"port": 8080, "protocol": "http"}],
        "minSingleCardVramInGb": 40, "imagePublicType": "PUBLIC",
        "persistentVolumes": [{"mountPath": "/w", "volumeType": "NFS", "volumeSize": 5}],
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    result = cli("-o", "json", "pods", "create", "--from-file", str(path), "--name", "overridden")
    assert result.code == 0, result.err
    pod = result.json()
    assert pod["name"] == "overridden" and pod["gpuType"] == "NVIDIA_A100_80G" and pod["gpuCount"] == 4
    assert pod["image"] == "img:1" and pod["persistentVolumes"][0]["mountPath"] == "/w"

    piped = cli("-o", "json", "pods", "create", "--from-file", "-", stdin=json.dumps(spec))
    assert piped.code == 0 and piped.json()["name"] == "from-file"


def test_create_spec_error_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    # One real process here; test_inprocess.py runs the whole table of spec errors.
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "imagee": "typo"}')
    result = cli("pods", "create", "--from-file", str(bad))
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == "yotta-async: error: --from-file " + str(bad) + ": unknown field 'imagee' " \
        "(fields are the API's camelCase names, e.g. gpuType)"


def test_list_get_and_filters_in_both_modes(cli: Any, sim: SimProcess) -> None:
    pod = _create(cli, "listed", "--region", "us-west-1")
    cli("pods", "wait", str(pod["id"]), "--until", "running")
    listed = cli("-o", "json", "pods", "list", "--region", "us-west-1", "--status", "RUNNING")
    assert listed.code == 0 and listed.err == ""
    assert [p["id"] for p in listed.json()] == [pod["id"]]
    none = cli("pods", "list", "--status", "PAUSED", "--region", "us-west-1")
    assert none.code == 0 and "ID" in none.out and "no pods" in none.err
    table = cli("pods", "list", "--region", "us-west-1")
    assert table.code == 0 and str(pod["id"]) in table.out and "listed" in table.out
    assert table.out.splitlines()[0].split()[:3] == ["ID", "NAME", "STATUS"]
    got = cli("-o", "json", "pods", "get", str(pod["id"]))
    assert got.code == 0 and got.json()["id"] == pod["id"] and got.json()["status"] == "RUNNING"
    # The JSON is the API's own fields: the same as the SDK decodes and re-encodes.
    sdk = next(p for p in sim.pods() if p.id == pod["id"])
    assert set(got.json()) >= {"id", "status", "name", "gpuType", "createdAt"}
    assert got.json()["createdAt"] == sdk.created_at
    bad_status = cli("pods", "list", "--status", "SLEEPING")
    assert bad_status.code == 2 and "SLEEPING" in bad_status.err


def test_pause_resume_delete_lifecycle(cli: Any, sim: SimProcess) -> None:
    a, b = _create(cli, "life-a")["id"], _create(cli, "life-b")["id"]
    ids = [str(a), str(b)]
    assert cli("-q", "pods", "wait", *ids, "--until", "running").code == 0
    paused = cli("-o", "json", "pods", "pause", *ids)
    assert paused.code == 0 and paused.json() == [{"id": a, "ok": True}, {"id": b, "ok": True}]
    waited = cli("-o", "json", "pods", "wait", *ids, "--until", "paused")
    assert waited.code == 0 and {p["status"] for p in waited.json()} == {"PAUSED"}
    resumed = cli("pods", "resume", *ids)
    assert resumed.code == 0 and resumed.out.count("resume requested") == 2
    assert cli("pods", "wait", *ids, "--until", "running", "--timeout", "1m").code == 0
    deleted = cli("pods", "delete", *ids)
    assert deleted.code == 0 and deleted.out.count("delete requested") == 2
    gone = cli("-o", "json", "pods", "wait", *ids, "--until", "terminated")
    assert gone.code == 0 and {p["status"] for p in gone.json()} == {"TERMINATED"}
    assert {a, b}.isdisjoint(p.id for p in sim.live())


def test_api_errors_exit_1_with_one_line(cli: Any) -> None:
    missing = cli("pods", "get", "123456789")
    assert missing.code == 1 and missing.out == ""
    assert missing.err.strip().count("\n") == 0 and "13000" in missing.err and "not found" in missing.err
    running = _create(cli, "wrong-state")["id"]
    assert cli("pods", "wait", str(running)).code == 0
    refused = cli("-o", "json", "pods", "resume", str(running), "123456789")
    assert refused.code == 1
    results = refused.json()
    assert [r["ok"] for r in results] == [False, False]
    assert results[0]["error"]["code"] == 12001 and results[0]["error"]["type"] == "InvalidStateError"
    assert results[1]["error"]["code"] == 13000
    assert "resume failed for 2 of 2 pod(s)" in refused.err
    cli("pods", "delete", str(running))


def test_wait_timeout_and_failed_pod_exit_1(cli: Any) -> None:
    doomed = _create(cli, "doomed", "--image", "yotta/always-fails")["id"]
    failed = cli("pods", "wait", str(doomed), "--until", "running")
    assert failed.code == 1 and "FAILED" in failed.err
    assert cli("pods", "delete", str(doomed)).code == 0
    running = _create(cli, "never-paused")["id"]
    late = cli("pods", "wait", str(running), "--until", "paused", "--timeout", "0.5")
    assert late.code == 1 and "did not reach PAUSED within 0.5s" in late.err
    assert cli("pods", "delete", str(running)).code == 0


def test_debug_logs_requests_without_the_key(cli: Any) -> None:
    result = cli("--debug", "pods", "list")
    assert result.code == 0
    assert "GET /v2/pods -> 200" in result.err
    assert "API key from --api-key" in result.err  # where it came from, never what it is
    err = cli("pods", "get", "1", "--debug")
    assert err.code == 1 and "Traceback" in err.err  # --debug shows the traceback
