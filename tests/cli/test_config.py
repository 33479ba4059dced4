"""Credentials (flag > env > ~/.yotta/config), missing keys, bad flags and ``simulate``."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from yotta_async import __version__
from yotta_async.cli import main

from .conftest import CLI, KEY, SimProcess, clean_env, run

WRONG = "sk-wrong-key-00000000"


def _config(home: Path, text: str) -> None:
    (home / ".yotta").mkdir(exist_ok=True)
    (home / ".yotta" / "config").write_text(text)


@pytest.fixture
def fresh_home(tmp_path: Path) -> Path:
    return tmp_path


def test_missing_key_names_both_ways_out(fresh_home: Path) -> None:
    result = run("pods", "list", home=fresh_home)
    assert result.code == 2 and result.out == ""
    line = result.err.strip()
    assert "\n" not in line
    for hint in ("--api-key", "YOTTA_API_KEY", "~/.yotta/config", "--simulate"):
        assert hint in line


def test_default_profile_supplies_key_and_url(fresh_home: Path, sim: SimProcess) -> None:
    _config(fresh_home, f"[default]\napi_key = {KEY}\nbase_url = {sim.url}\n")
    result = run("-o", "json", "pods", "list", home=fresh_home)
    assert result.code == 0, result.err
    assert isinstance(result.json(), list)


def test_precedence_flag_then_env_then_default_profile(
    fresh_home: Path, sim: SimProcess, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process (same resolution code, no process start-up cost) against the real server.
    monkeypatch.setenv("HOME", str(fresh_home))
    _config(fresh_home, f"[default]\napi_key = {WRONG}\nbase_url = {sim.url}\n")
    # the profile's wrong key loses to the environment's right one ...
    monkeypatch.setenv("YOTTA_API_KEY", KEY)
    assert main(["pods", "list"]) == 0
    # ... and the environment loses to the flag.
    assert main(["pods", "list", "--api-key", WRONG]) == 1
    assert "401" in capsys.readouterr().err
    monkeypatch.setenv("YOTTA_BASE_URL", sim.url)
    assert main(["pods", "list", "--debug"]) == 0
    assert "base URL from YOTTA_BASE_URL" in capsys.readouterr().err


def test_explicit_profile_beats_environment(fresh_home: Path, sim: SimProcess) -> None:
    _config(fresh_home, f"[default]\napi_key = {WRONG}\n\n[lab]\napi_key = {KEY}\nbase_url = {sim.url}\n")
    ok = run("--profile", "lab", "pods", "list", home=fresh_home,
             env={"YOTTA_API_KEY": WRONG, "YOTTA_BASE_URL": "http://127.0.0.1:9"})
    assert ok.code == 0, ok.err
    debug = run("pods", "list", "--profile", "lab", "--debug", home=fresh_home)
    assert debug.code == 0 and "API key from profile [lab]" in debug.err
    missing = run("--profile", "nope", "pods", "list", home=fresh_home)
    assert missing.code == 2 and "[nope]" in missing.err


def test_unreadable_or_absent_profile_file(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(fresh_home))
    monkeypatch.delenv("YOTTA_API_KEY", raising=False)
    assert main(["--profile", "lab", "pods", "list"]) == 2
    assert "does not exist" in capsys.readouterr().err
    _config(fresh_home, f"api_key = {KEY}\n")  # no section header
    assert main(["pods", "list"]) == 2
    err = capsys.readouterr().err
    assert "cannot read ~/.yotta/config" in err and KEY not in err


def test_bad_flag_exit_2_as_a_process(fresh_home: Path) -> None:
    # The full table of bad flags runs in-process (test_inprocess.py); one real process here.
    result = run("--api-key", KEY, "pods", "get", "abc", home=fresh_home)
    assert result.code == 2 and result.out == ""
    assert "usage:" in result.err and "invalid pod id" in result.err


def test_simulate_serves_until_sigint(fresh_home: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "simulate", "--port", "0", "--api-key", KEY, "--time-scale", "0.001"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(fresh_home),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        created = run("--api-key", KEY, "--base-url", url, "-o", "json", "pods", "create",
                      "--name", "x", "--image", "i", "--gpu-type", "NVIDIA_H100_80G", home=fresh_home)
        assert created.code == 0, created.err
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


def test_simulate_reports_a_port_in_use(sim: SimProcess, capsys: pytest.CaptureFixture[str]) -> None:
    port = sim.url.rsplit(":", 1)[1]
    assert main(["simulate", "--port", port]) == 1
    assert "cannot serve" in capsys.readouterr().err


def test_module_and_console_script_agree(fresh_home: Path) -> None:
    script = Path(sys.executable).with_name("yotta-async")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True,
                         env=clean_env(fresh_home))
    assert out.stdout == f"yotta-async {__version__}\n"


def test_rich_is_loaded_only_to_draw(fresh_home: Path) -> None:
    code = (
        "import sys\n"
        "import yotta_async, yotta_async.testing\n"
        "assert 'rich' not in sys.modules, 'the SDK imported rich'\n"
        "from yotta_async.cli import main\n"
        "assert main(['--simulate', '-o', 'json', 'pods', 'list']) == 0\n"
        "assert 'rich' not in sys.modules, 'JSON output imported rich'\n"
        "assert main(['--simulate', 'pods', 'list']) == 0\n"
        "assert 'rich' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=clean_env(fresh_home))
    assert proc.returncode == 0, proc.stderr
