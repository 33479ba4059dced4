"""Regression tests for defects found in review: pure functions and models, no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from yotta_async import PodCreateRequest, ValidationError


@pytest.mark.parametrize("port", ["\u00b2", "\u00b3/tcp", "\uff11\uff12\uff13"])
def test_expose_with_non_ascii_digits_is_a_validation_error(port: str) -> None:
    # str.isdigit() accepts superscript two (which int() refuses) and fullwidth digits (which int()
    # silently converts): both must be refused as a ValidationError naming the entry.
    with pytest.raises(ValidationError) as info:
        PodCreateRequest.build(name="n", image="i", gpu_type="g", gpu_count=1, expose=[8888, port])
    assert info.value.field == "expose[1]"


@pytest.mark.parametrize("raw", [b'{"name": "\xff"}', b"[" * 100_000])
def test_cli_spec_file_that_is_not_utf8_or_too_deep_is_a_usage_error(
    raw: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from yotta_async.cli import EXIT_USAGE, main

    monkeypatch.setenv("HOME", str(tmp_path))
    spec = tmp_path / "spec.json"
    spec.write_bytes(raw)
    code = main(["--api-key", "k", "pods", "create", "--from-file", str(spec)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert "not valid JSON" in err and "unexpected" not in err


@pytest.mark.parametrize("name", ["exp[/]", "x[/a]", "exp[bold]b"])
def test_cli_tables_print_server_text_verbatim_not_as_rich_markup(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Pod names (and every other field) are data: a "[/]" in one must neither crash the
    # table with a MarkupError nor be eaten as a style tag.
    from yotta_async import Pod
    from yotta_async.cli._output import Output

    pod = Pod(id=7, status="RUNNING", name=name, region=name, initialization_command=f"echo {name}")
    out = Output("table")
    out.pods([pod])
    out.pod(pod)
    printed = capsys.readouterr().out
    assert printed.count(name) == 5, printed  # list: name, region; detail: name, region, command


@pytest.mark.parametrize("created_at", [10**18, -(10**18)])
def test_cli_tables_survive_a_timestamp_no_datetime_can_hold(
    created_at: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # Pod.created already treats such a value (a server bug) as unknown; the CLI must too.
    from yotta_async import Pod
    from yotta_async.cli._output import Output

    pod = Pod(id=7, status="RUNNING", name="n", created_at=created_at)
    out = Output("table")
    out.pods([pod])
    out.pod(pod)
    printed = capsys.readouterr().out
    assert "RUNNING" in printed and str(created_at) in printed


async def test_closed_client_fails_at_once_even_during_a_429_cooldown() -> None:
    from yotta_async import ConfigurationError, YottaClient

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = YottaClient("k", "http://127.0.0.1:9", sleep=sleep, clock=lambda: 100.0)
    client._session._cooldown_until = 160.0  # a 429 asked every request to wait 60 s
    await client.aclose()
    with pytest.raises(ConfigurationError):
        await client.pods.list()
    assert slept == []


def test_an_unknown_status_past_the_cache_is_not_a_change_on_every_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Past its 256-entry cache PodStatus builds a fresh pseudo-member per decode; equal
    # statuses must still compare equal, or waiters would see a "change" on every poll
    # and the shared poller would never back off.
    from yotta_async import Pod, PodStatus
    from yotta_async.models import status as status_module
    from yotta_async.waiting import RUNNING, PodTracker

    monkeypatch.setattr(status_module, "_UNKNOWN", {})  # fill a private cache, not the real one
    for i in range(300):
        PodStatus(f"FILLER_{i}")
    assert len(status_module._UNKNOWN) == 256
    first, second = PodStatus("HIBERNATING_NOW"), PodStatus("HIBERNATING_NOW")
    assert first is not second and first == second
    tracker = PodTracker(1, RUNNING, started=0.0)
    assert tracker.observe(Pod(id=1, status=first)) == (None, first)
    assert tracker.observe(Pod(id=1, status=second)) is None
    assert tracker.history == [first]


async def test_a_non_callable_on_change_is_refused_before_any_request(mock_api: object) -> None:
    from yotta_async import YottaClient

    async with YottaClient("k") as client:
        with pytest.raises(ValidationError) as info:
            await client.pods.wait_until_running(1, on_change="print")  # type: ignore[arg-type]
    assert info.value.field == "on_change"
