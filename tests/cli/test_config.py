"""Credentials (flag > env > ~/.yotta/config), missing keys, bad flags and ``simulate``."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_precedence_flag_then_env_then_default_profile(fresh_home: Path, sim: SimProcess) -> None:
    _config(fresh_home, f"[default]\napi_key = {WRONG}\nbase_url = {sim.url}\n")
    # the profile's wrong key loses to the environment's right one ...
    assert run("pods", "list", home=fresh_home, env={"YOTTA_API_KEY": KEY}).code == 0
    # ... and the environment loses to the flag.
    denied = run("pods", "list", "--api-key", WRONG, home=fresh_home, env={"YOTTA_API_KEY": KEY})
    assert denied.code == 1 and "401" in denied.err and WRONG not in denied.err
    env_url = run("pods", "list", "--debug", home=fresh_home,
                  env={"YOTTA_API_KEY": KEY, "YOTTA_BASE_URL": sim.url})
    assert env_url.code == 0 and "base URL from YOTTA_BASE_URL" in env_url.err


def test_explicit_profile_beats_environment(fresh_home: Path, sim: SimProcess) -> None:
    _config(fresh_home, f"[default]\napi_key = {WRONG}\n\n[lab]\napi_key = {KEY}\nbase_url = {sim.url}\n")
    ok = run("--profile", "lab", "pods", "list", home=fresh_home,
             env={"YOTTA_API_KEY": WRONG, "YOTTA_BASE_URL": "http://127.0.0.1:9"})
    assert ok.code == 0, ok.err
    debug = run("pods", "list", "--profile", "lab", "--debug", home=fresh_home)
    assert debug.code == 0 and "API key from profile [lab]" in debug.err
    missing = run("--profile", "nope", "pods", "list", home=fresh_home)
    assert missing.code == 2 and "[nope]" in missing.err


def test_unreadable_or_absent_profile_file(fresh_home: Path) -> None:
    absent = run("--profile", "lab", "pods", "list", home=fresh_home)
    assert absent.code == 2 and "does not exist" in absent.err
    _config(fresh_home, f"api_key = {KEY}\n")  # no section header
    broken = run("pods", "list", home=fresh_home)
    assert broken.code == 2 and "cannot read ~/.yotta/config" in broken.err


def test_bad_flag_exit_2_as_a_process(fresh_home: Path) -> None:
    # The full table of bad flags runs in-process (test_inprocess.py); one real process here.
    result = run("--api-key", KEY, "pods", "get", "abc", home=fresh_home)
    assert result.code == 2 and result.out == ""
    assert "usage:" in result.err and "invalid pod id" in result.err


def test_help_and_version(fresh_home: Path) -> None:
    result = run("--help", home=fresh_home)
    assert result.code == 0 and "pods" in result.out and "launch" in result.out
    assert "exit status" in result.out
    assert run("--version", home=fresh_home).out.startswith("yotta-async ")


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


def test_simulate_reports_a_port_in_use(fresh_home: Path, sim: SimProcess) -> None:
    port = sim.url.rsplit(":", 1)[1]
    result = run("simulate", "--port", port, home=fresh_home)
    assert result.code == 1 and "cannot serve" in result.err


def test_module_and_console_script_agree(fresh_home: Path) -> None:
    script = Path(sys.executable).with_name("yotta-async")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout == run("--version", home=fresh_home).out
