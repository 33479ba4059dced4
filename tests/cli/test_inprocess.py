"""``main()`` called in-process: parser errors, ``--simulate`` commands, config and spec details."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pytest

from yotta_async.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main
from yotta_async.cli._config import UsageError, resolve
from yotta_async.cli._main import _Redact
from yotta_async.cli._parser import build_parser, duration
from yotta_async.cli._spec import build_request

if sys.version_info < (3, 11):  # pragma: no cover - anyio brings the backport there
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

KEY = "sk-inprocess-secret-1234567890"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("YOTTA_API_KEY", "YOTTA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert KEY not in out and KEY not in err
    return code, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pods", "frobnicate"], "invalid choice"),
        (["pods", "get", "abc"], "invalid pod id"),
        (["pods", "get", "0"], "invalid pod id"),
        (["pods", "get"], "required"),
        (["--output", "xml", "pods", "list"], "invalid choice"),
        (["pods", "wait", "1", "--timeout", "soon"], "invalid duration"),
        (["pods", "wait", "1", "--until", "asleep"], "invalid choice"),
        (["launch", "--count", "0"], "positive integer"),
        (["launch"], "--count"),
        (["--simulate", "--time-scale", "-1", "pods", "list"], "positive number"),
        # The SDK's number rule: infinity and NaN are no time scale.
        (["--simulate", "--time-scale", "inf", "pods", "list"], "positive number"),
        (["--simulate", "--time-scale", "nan", "pods", "list"], "positive number"),
        (["pods", "get", "\u00b2"], "invalid pod id"),
        (["launch", "--count", "\u00b2"], "positive integer"),
        (["pods", "create", "--env", "NOEQUALS"], "KEY=VALUE"),
        (["pods", "create", "--env", "=v"], "KEY=VALUE"),
        (["pods", "create", "--expose", "http"], "PORT"),
        (["pods", "create", "--volume", "colour=blue"], "unknown volume key"),
        (["pods", "create", "--volume", "nopath"], "MOUNT_PATH:TYPE"),
        (["pods", "create", "--volume", "mount_path=/d,volume_type=NFS,volume_size=big"], "integer"),
        (["pods", "create", "--volume", "mount_path=/d,volume_type=NFS,volume_price=x"], "number"),
        (["pods", "create", "--resource-type", "TPU"], "invalid choice"),
        (["pods", "list", "--bogus"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_bad_flags_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = _run(capsys, "--api-key", KEY, *args)
    assert code == EXIT_USAGE and out == ""
    assert "usage:" in err and message in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "x", "imagee": "typo"}', "unknown field 'imagee'"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"name": "x", "image": "i", "gpuType": "g", "gpuCount": "two"}', "gpuCount"),
        ('{"name": "x", "image": "i", "gpuType": "g", "gpuCount": 3}', "power of two"),
        ('{"name": "x", "image": "i", "gpuType": "g", "environmentVars": [{"key": "K"}]}', "value"),
        ('{"name": "x"}', "missing --image, --gpu-type"),
    ],
)
def test_spec_file_errors_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(text)
    code, out, err = _run(capsys, "--api-key", KEY, "pods", "create", "--from-file", str(spec))
    assert code == EXIT_USAGE and out == "" and message in err
    assert len(err.strip().splitlines()) == 1, err


def test_spec_file_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "--api-key", KEY, "launch", "--count", "1", "--from-file",
                        str(tmp_path / "nope.json"))
    assert code == EXIT_USAGE and "nope.json" in err


def test_quiet_silences_notes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--simulate", "-q", "pods", "list", "--status", "PAUSING")
    assert code == EXIT_OK and err == "" and out.startswith("ID")


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == EXIT_OK and "exit status" in out and "--simulate" in out
    code, out, _ = _run(capsys, "launch", "--help")
    assert code == EXIT_OK and "--then" in out and "--from-file" in out and "--gpu-type" in out


def test_missing_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "pods", "list")
    assert code == EXIT_USAGE and out == "" and "--simulate" in err and "YOTTA_API_KEY" in err


def test_time_scale_needs_simulate(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--api-key", KEY, "--time-scale", "0.1", "pods", "list")
    assert code == EXIT_USAGE and "--time-scale only applies with --simulate" in err


def test_insecure_base_url_is_refused_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--api-key", KEY, "--base-url", "http://example.com", "pods", "list")
    assert code == EXIT_USAGE and "refusing plain-http" in err


def test_unreachable_api_is_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import functools

    import yotta_async

    # No retries: the point is the exit status, not the SDK's backoff schedule.
    monkeypatch.setattr(yotta_async, "YottaClient", functools.partial(yotta_async.YottaClient, max_retries=0))
    code, _, err = _run(capsys, "--api-key", KEY, "--base-url", "http://127.0.0.1:9", "pods", "get", "5")
    assert code == EXIT_FAILURE and "GET /v2/pods/5" in err and len(err.strip().splitlines()) == 1


def test_simulate_demo_account(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--simulate", "-o", "json", "pods", "list")
    assert code == EXIT_OK
    pods = json.loads(out)
    names = sorted(p["name"] for p in pods)
    assert names == [
        "crashed-run-a-0", "crashed-run-b-0", "demo-paused-0", "demo-running-0", "demo-running-1"
    ]
    code, out, _ = _run(capsys, "--simulate", "pods", "list", "--status", "PAUSED")
    assert code == EXIT_OK and "demo-paused-0" in out and "demo-running" not in out
    paused = next(p["id"] for p in pods if p["name"] == "demo-paused-0")
    running = next(p["id"] for p in pods if p["name"] == "demo-running-0")
    code, out, _ = _run(capsys, "--simulate", "pods", "get", str(paused))
    assert code == EXIT_OK and "PAUSED" in out and "desiredState" in out
    code, out, err = _run(capsys, "--simulate", "pods", "pause", str(paused), str(running))
    assert code == EXIT_FAILURE and "pause requested" in out and "12001" in out
    assert "pause failed for 1 of 2 pod(s)" in err
    code, out, _ = _run(capsys, "--simulate", "-o", "json", "pods", "resume", str(paused), str(paused))
    assert code == EXIT_OK and json.loads(out) == [{"id": paused, "ok": True}]  # duplicates collapse


def test_simulate_create_with_defaults_and_wait(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--simulate", "--time-scale", "0.002", "-o", "json",
                          "pods", "create", "--wait")
    assert code == EXIT_OK, err
    pod = json.loads(out)
    assert pod["status"] == "RUNNING" and pod["name"] == "demo" and pod["gpuType"] == "NVIDIA_H100_80G"
    assert "waiting until it is RUNNING" in err
    code, out, err = _run(capsys, "--simulate", "--time-scale", "0.002", "pods", "create",
                          "--image", "yotta/always-fails", "--wait", "--debug")
    assert code == EXIT_FAILURE and "FAILED" in err and "Traceback" in err
    assert "POST /v2/pods -> 200" in err


def test_simulate_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--simulate", "sweep", "--dry-run")
    assert code == EXIT_OK and "crashed-run-a-0" in out and "demo-running" not in out
    assert "would delete 2 pod(s)" in err
    code, out, err = _run(capsys, "--simulate", "-o", "json", "sweep", "--dry-run", "--older-than", "1h")
    assert code == EXIT_OK and json.loads(out)["found"] == []  # the demo orphans are brand new
    assert "no orphaned pods found" in err
    code, out, err = _run(capsys, "--simulate", "-o", "json", "sweep", "--wait", "--older-than", "0s")
    assert code == EXIT_OK
    doc = json.loads(out)
    assert doc["dryRun"] is False and len(doc["found"]) == 2 and len(doc["deleted"]) == 2
    assert doc["errors"] == [] and "deleted 2 of 2" in err
    code, out, err = _run(capsys, "--simulate", "-q", "sweep", "--group", "someone-else")
    assert code == EXIT_OK and out == "" and err == ""
    code, _, err = _run(capsys, "--simulate", "sweep", "--group", "bad label!")
    assert code == EXIT_USAGE and "group" in err


def test_resolve_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".yotta").mkdir()
    (tmp_path / ".yotta" / "config").write_text(
        "[default]\napi_key = from-default\nbase_url = https://default.example\n"
        "[lab]\napi_key = from-lab\n"
    )
    creds = resolve(None, None, None)
    assert (creds.api_key, creds.base_url) == ("from-default", "https://default.example")
    monkeypatch.setenv("YOTTA_API_KEY", "from-env")
    assert resolve(None, None, None).api_key == "from-env"
    assert resolve(" from-flag ", None, None).api_key == "from-flag"
    lab = resolve(None, None, "lab")
    assert lab.api_key == "from-lab" and lab.key_source.startswith("profile [lab]")
    assert lab.base_url is None and lab.url_source == "the default"
    assert "from-lab" not in repr(lab)
    with pytest.raises(UsageError, match=r"\[nope\]"):
        resolve(None, None, "nope")


def test_build_request_maps_every_field(tmp_path: Path) -> None:
    parser = build_parser()
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"name": "f", "image": "i", "gpuType": "g", "containerRegistryAuthId": 7,
                                "imageRegistry": "ghcr.io", "minSingleCardVcpu": 8}))
    args = parser.parse_args([
        "pods", "create", "--from-file", str(spec), "--gpu-count", "8", "--image-public-type", "private",
        "--min-single-card-ram-in-gb", "64", "--min-single-card-vram-in-gb", "80",
        "--persistent-volume-in-gb", "20",
        "--volume", "mountPath=/m,volumeType=System,systemVolumeTypeEnum=CEPH,id=3,volume_price=0.5",
    ])
    req = build_request(args, simulate=False)
    assert (req.name, req.gpu_count, req.image_public_type) == ("f", 8, "PRIVATE")
    assert req.container_registry_auth_id == 7 and req.image_registry == "ghcr.io"
    assert req.min_single_card_ram_in_gb == 64 and req.min_single_card_vram_in_gb == 80
    assert req.min_single_card_vcpu == 8 and req.persistent_volume_in_gb == 20
    vol = req.persistent_volumes[0]
    assert (vol.mount_path, vol.system_volume_type_enum, vol.id, vol.volume_price) == ("/m", "CEPH", 3, 0.5)
    with pytest.raises(UsageError, match="missing --name, --image, --gpu-type"):
        build_request(parser.parse_args(["pods", "create"]), simulate=False)
    assert build_request(parser.parse_args(["pods", "create"]), simulate=True).name == "demo"


def test_duration_units() -> None:
    assert [duration(t) for t in ("90", "90s", "2m", "1.5h", "1D")] == [90, 90, 120, 5400, 86400]
    with pytest.raises(argparse.ArgumentTypeError):
        duration("-5m")


def test_redact_filter_scrubs_the_key() -> None:
    record = logging.LogRecord("yotta_async", logging.DEBUG, __file__, 1, "key=%s", (KEY,), None)
    assert _Redact(KEY).filter(record) and KEY not in record.getMessage()
    plain = logging.LogRecord("yotta_async", logging.DEBUG, __file__, 1, "GET %s", ("/v2/pods",), None)
    assert _Redact(KEY).filter(plain) and plain.getMessage() == "GET /v2/pods"


def test_simulate_launch_then_pause_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--simulate", "--time-scale", "0.002", "-o", "json", "launch",
                          "--count", "4", "--wait", "--then", "pause", "--concurrency", "2")
    assert code == EXIT_OK, err
    pods = json.loads(out)
    assert sorted(p["name"] for p in pods) == ["demo-0", "demo-1", "demo-2", "demo-3"]
    assert {p["status"] for p in pods} == {"PAUSED"}
    assert "--then pause: paused 4 of 4 pod(s)" in err


def test_simulate_launch_without_wait_keeps_pods(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--simulate", "launch", "--count", "2", "--name", "quick")
    assert code == EXIT_OK, err
    assert out.count("quick-") == 2 and "they keep running" in err and "sweep --group group-" in err


def test_live_display_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from yotta_async.cli._output import Output

    # Pretend stderr is a terminal: the rich Live display is drawn (its final frame stays).
    monkeypatch.setattr(Output, "progress_enabled", property(lambda self: not self.quiet))
    code, out, err = _run(capsys, "--simulate", "--time-scale", "0.002", "launch", "--count", "3",
                          "--name", "live", "--wait", "--then", "delete")
    assert code == EXIT_OK, err
    assert "launch live x 3" in err and "3/3 TERMINATED" in err and "TERMINATED 3" in err
    assert out.count("TERMINATED") == 3
    assert "[0:0" not in err  # no phase lines when the live display is on


def test_launch_failure_in_process_cleans_up(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--simulate", "--time-scale", "0.002", "-o", "json", "launch",
                          "--count", "2", "--image", "yotta/always-fails", "--wait")
    assert code == EXIT_FAILURE
    assert {p["status"] for p in json.loads(out)} == {"TERMINATED"}
    assert "cleanup after the error: deleted 2 of 2 pod(s)" in err


@pytest.fixture
def failing_deletes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every DELETE answers 500 in the --simulate simulator, and the client does not retry."""
    import functools

    import yotta_async
    import yotta_async.testing as testing
    from yotta_async.testing import FaultPlan, FaultRule

    class Faulty(testing.Simulator):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self.faults = FaultPlan({"DELETE /v2/pods/{id}": FaultRule(error_500=1.0)})

    monkeypatch.setattr(testing, "Simulator", Faulty)
    monkeypatch.setattr(yotta_async, "YottaClient", functools.partial(yotta_async.YottaClient, max_retries=0))


def test_incomplete_cleanup_is_reported(capsys: pytest.CaptureFixture[str], failing_deletes: None) -> None:
    code, out, err = _run(capsys, "--simulate", "--time-scale", "0.002", "launch", "--count", "2",
                          "--name", "stuck", "--wait", "--then", "delete", "--cleanup-timeout", "0.3")
    assert code == EXIT_FAILURE
    assert "--then delete: deleted 0 of 2 pod(s); not confirmed for" in err
    assert "sweep --group group-" in err
    assert "could not delete every pod" in err.splitlines()[-1]
    assert out.count("RUNNING") == 2


def test_sweep_reports_failed_deletes(capsys: pytest.CaptureFixture[str], failing_deletes: None) -> None:
    code, _, err = _run(capsys, "--simulate", "sweep", "--all")
    assert code == EXIT_FAILURE and "could not delete 2 pod(s)" in err and "HTTP 500" in err


README_MAIN_JOB = (
    "--simulate launch --count 20 --name demo --image nvidia/cuda:12.1.0-base-ubuntu22.04 "
    "--gpu-type NVIDIA_H100_80G --gpu-count 1 --wait --then delete"
)


def test_readme_main_job(capsys: pytest.CaptureFixture[str]) -> None:
    # Exactly the README's first command (default --simulate time scale: a few seconds).
    code, out, err = _run(capsys, *README_MAIN_JOB.split())
    assert code == EXIT_OK, err
    assert out.count("TERMINATED") == 20 and "demo-19" in out
    assert "waiting for RUNNING" in err and "--then delete: deleted 20 of 20 pod(s)" in err


def test_error_inside_an_exception_group_is_shown_plainly() -> None:
    from yotta_async import PodNotFoundError
    from yotta_async.cli._main import _unwrap

    inner = PodNotFoundError("pod not found: 5", code=13000)
    grouped = BaseExceptionGroup("tg", [ExceptionGroup("tg", [inner])])
    assert _unwrap(grouped) is inner
    two = ExceptionGroup("tg", [inner, ValueError("x")])
    assert _unwrap(two) is two
