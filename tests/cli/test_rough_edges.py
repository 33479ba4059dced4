"""CLI rough edges from issue 17: usage of the right subcommand, plain http, sweep criteria."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yotta_async.cli import EXIT_OK, EXIT_USAGE, main

KEY = "sk-rough-edges-secret-1234567890"


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
    ("argv", "usage"),
    [
        (["pods", "list", "--bogus"], "usage: yotta-async pods list"),
        (["pods", "delete", "1", "--bogus"], "usage: yotta-async pods delete"),
        (["sweep", "--all", "--bogus"], "usage: yotta-async sweep"),
        (["--simulate", "launch", "--count", "1", "--bogus"], "usage: yotta-async launch"),
    ],
)
def test_unknown_flag_prints_the_subcommands_usage(
    capsys: pytest.CaptureFixture[str], argv: list[str], usage: str
) -> None:
    code, out, err = _run(capsys, "--api-key", KEY, *argv)
    assert code == EXIT_USAGE and out == ""
    assert usage in err
    assert "unrecognized arguments: --bogus" in err


def test_plain_http_advice_is_for_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--api-key", KEY, "--base-url", "http://example.invalid", "pods", "list")
    assert code == EXIT_USAGE
    assert "--allow-insecure-http" in err


def test_allow_insecure_http_lets_the_request_go(capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on this host: reaching "cannot connect" proves the URL was accepted.
    code, _, err = _run(
        capsys, "--api-key", KEY, "--base-url", "http://example.invalid", "--allow-insecure-http",
        "pods", "list",
    )
    assert "refusing plain-http" not in err
    assert code == 1


def test_sweep_without_a_criterion_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--simulate", "sweep")
    assert code == EXIT_USAGE and out == ""
    for choice in ("--group", "--older-than", "--expired", "--all", "--dry-run"):
        assert choice in err


def test_sweep_all_deletes_every_orphan(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--simulate", "-o", "json", "sweep", "--all")
    assert code == EXIT_OK
    assert len(json.loads(out)["deleted"]) == 2  # the demo account's two crashed-run pods


@pytest.fixture
def future_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator sends a field this SDK version's model does not know."""
    from yotta_async.testing import _state

    render = _state.render

    def with_future_field(*args: object, **kw: object) -> bytes:
        body = render(*args, **kw)  # type: ignore[arg-type]
        return body[:-1] + b',"futureField":{"nested":[1,2]}}'

    monkeypatch.setattr(_state, "render", with_future_field)


def _all_have_future_field(doc: object) -> None:
    pods = doc if isinstance(doc, list) else [doc]
    assert pods
    for pod in pods:
        assert isinstance(pod, dict) and pod["futureField"] == {"nested": [1, 2]}, pod


@pytest.mark.usefixtures("future_field")
def test_json_output_keeps_fields_the_model_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    fast = ["--simulate", "--time-scale", "0.002", "-o", "json"]
    code, out, err = _run(capsys, *fast, "pods", "list")
    assert code == EXIT_OK, err
    listed = json.loads(out)
    _all_have_future_field(listed)
    code, out, err = _run(capsys, *fast, "pods", "get", str(listed[0]["id"]))
    assert code == EXIT_OK, err
    _all_have_future_field(json.loads(out))
    for argv in (["pods", "create"], ["pods", "create", "--wait"],
                 ["launch", "--count", "2", "--wait", "--then", "delete"]):
        code, out, err = _run(capsys, *fast, *argv)
        assert code == EXIT_OK, err
        _all_have_future_field(json.loads(out))
    code, out, err = _run(capsys, *fast, "sweep", "--dry-run")
    assert code == EXIT_OK, err
    _all_have_future_field(json.loads(out)["found"])
