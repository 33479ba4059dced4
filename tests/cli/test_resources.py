"""The resource commands as subprocesses: the launch's "Done when" steps, and password handling."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import KEY, Result, SimProcess, clean_env, run, stop_simulator

PASSWORD = "cli-registry-pa$$word-3b9d1f"
H100 = "NVIDIA_H100_80G"


@pytest.fixture(scope="module")
def scarce(home: Path) -> Iterator[SimProcess]:
    """A simulator process where H100 is sold out in us-east-1 (the default region).

    A type given to ``--capacity`` exists only in the regions given, so H100 is also offered
    in us-east-2, where the steps land.
    """
    log = (home / "sim-scarce.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "yotta_async.testing", "--port", "0", "--api-key", KEY,
         "--time-scale", "0.001", "--capacity", f"{H100}@us-east-1=0",
         "--capacity", f"{H100}@us-east-2=8"],
        stdout=subprocess.PIPE, stderr=log, text=True, env=clean_env(home),
    )
    log.close()
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    process = SimProcess(url, KEY, proc)
    try:
        yield process
    finally:
        stop_simulator(process)
        assert PASSWORD not in (home / "sim-scarce.log").read_text()  # not in the simulator's log


def _cli(sim: SimProcess, home: Path, *args: str, stdin: str | None = None) -> Result:
    result = run("--api-key", sim.key, "--base-url", sim.url, "--debug", *args, home=home, stdin=stdin)
    assert PASSWORD not in result.out and PASSWORD not in result.err, "the password leaked"
    return result


def test_done_when_steps_from_the_cli(scarce: SimProcess, home: Path) -> None:
    # 1. Where is H100 available?
    gpus = _cli(scarce, home, "-o", "json", "gpus", "--gpu-type", H100, "--available")
    assert gpus.code == 0, gpus.err
    regions = [r["region"] for t in gpus.json() for r in t["regions"]]
    assert regions == ["us-east-2"]
    region = regions[0]
    table = _cli(scarce, home, "gpus", "--gpu-type", H100)
    assert re.search(r"us-east-1\s+US East 1\s+no", table.out), table.out
    # 2. A credential (password from stdin) and a 100 GB CEPH volume, waited for.
    cred = _cli(scarce, home, "-o", "json", "credentials", "create", "--name", "reg", "--type",
                "docker_hub", "--username", "me", "--password-stdin", stdin=PASSWORD + "\n")
    assert cred.code == 0, cred.err
    cid = cred.json()["id"]
    vol = _cli(scarce, home, "-o", "json", "volumes", "create", "--name", "data", "--storage-type", "CEPH",
               "--region", region, "--size-in-gb", "100", "--wait")
    assert vol.code == 0, vol.err
    assert vol.json()["status"] == "active"
    vid = vol.json()["id"]
    # 3. Four pods from a private image with the volume mounted, inside a group.
    launched = _cli(scarce, home, "-o", "json", "launch", "--count", "4", "--name", "priv", "--image",
                    "me/private:1", "--gpu-type", H100, "--region", region, "--credential", str(cid),
                    "--mount", f"{vid}:/mnt/data", "--wait", "--then", "keep")
    assert launched.code == 0, launched.err
    pods = launched.json()
    assert len(pods) == 4 and {p["status"] for p in pods} == {"RUNNING"}
    assert {p["region"] for p in pods} == {region}
    assert all(p["persistentVolumes"][0]["id"] == vid for p in pods)
    assert all(p["containerRegistryAuthId"] == cid for p in pods)
    label = re.search(r"sweep --group (group-[0-9a-f]+)", launched.err)
    assert label is not None, launched.err
    # 4. mountCount is 4 and deleting the volume is refused with the typed error (exit 1).
    got = _cli(scarce, home, "-o", "json", "volumes", "get", str(vid))
    assert got.json()["mountCount"] == 4
    refused = _cli(scarce, home, "volumes", "delete", str(vid))
    assert refused.code == 1 and "mounted" in refused.err
    assert "ResourceInUseError" in refused.err  # --debug shows the typed error's traceback
    in_use = _cli(scarce, home, "credentials", "delete", str(cid))
    assert in_use.code == 1 and "in use" in in_use.err
    # 5. Leave the group (delete its pods), then delete the volume and the credential.
    swept = _cli(scarce, home, "sweep", "--group", label.group(1), "--wait")
    assert swept.code == 0 and "deleted 4 of 4" in swept.err
    assert _cli(scarce, home, "-o", "json", "volumes", "get", str(vid)).json()["mountCount"] == 0
    deleted = _cli(scarce, home, "-o", "json", "volumes", "delete", str(vid), "--wait")
    assert deleted.code == 0 and deleted.json() == {"id": vid, "deleted": True}
    assert _cli(scarce, home, "credentials", "delete", str(cid)).code == 0
    assert _cli(scarce, home, "-o", "json", "credentials", "list").json() == []


def test_password_never_from_argv(scarce: SimProcess, home: Path) -> None:
    for flag in (["--password", PASSWORD], [f"--password={PASSWORD}"]):
        result = _cli(scarce, home, "credentials", "create", "--name", "n", "--type", "GCR",
                      "--username", "u", *flag)
        assert result.code == 2 and "--password is not accepted" in result.err
    # argparse quotes what it cannot parse: a value after any --pass... flag is blanked first.
    for flag in (["--passw", PASSWORD], [f"--passw={PASSWORD}"], [f"--password-stdin={PASSWORD}"]):
        result = _cli(scarce, home, "credentials", "create", "--name", "n", "--type", "GCR",
                      "--username", "u", *flag)
        assert result.code == 2 and "error:" in result.err
    # No terminal and no --password-stdin: refused, nothing sent.
    result = _cli(scarce, home, "credentials", "create", "--name", "n", "--type", "GCR", "--username", "u",
                  stdin="")
    assert result.code == 2 and "--password-stdin" in result.err
    empty = _cli(scarce, home, "credentials", "create", "--name", "n", "--type", "GCR", "--username", "u",
                 "--password-stdin", stdin="\n")
    assert empty.code == 2 and "empty" in empty.err


def test_credential_update_and_get(scarce: SimProcess, home: Path) -> None:
    made = _cli(scarce, home, "-o", "json", "credentials", "create", "--name", "n", "--type", "ECR",
                "--username", "u", "--password-stdin", stdin=PASSWORD)
    cid = made.json()["id"]
    updated = _cli(scarce, home, "-o", "json", "credentials", "update", str(cid), "--name", "n2",
                   "--password-stdin", stdin="new-" + PASSWORD)
    assert updated.code == 0 and updated.json()["name"] == "n2"
    nothing = _cli(scarce, home, "credentials", "update", str(cid))
    assert nothing.code == 2 and "nothing to update" in nothing.err
    shown = _cli(scarce, home, "credentials", "get", str(cid))
    assert shown.code == 0 and "n2" in shown.out and "ECR" in shown.out
    assert _cli(scarce, home, "credentials", "delete", str(cid)).code == 0
    gone = _cli(scarce, home, "credentials", "get", str(cid))
    assert gone.code == 1


def test_volume_commands(scarce: SimProcess, home: Path) -> None:
    made = _cli(scarce, home, "-o", "json", "volumes", "create", "--name", "v", "--storage-type", "ceph",
                "--region", "us-east-2", "--size-in-gb", "10", "--wait")
    vid = made.json()["id"]
    assert _cli(scarce, home, "-o", "json", "volumes", "rename", str(vid), "v2").json()["name"] == "v2"
    resized = _cli(scarce, home, "-o", "json", "volumes", "resize", str(vid), "20", "--wait")
    assert resized.code == 0 and resized.json()["sizeInGb"] == 20
    listed = _cli(scarce, home, "volumes", "list", "--storage-type", "CEPH", "--region", "us-east-2")
    assert listed.code == 0 and "v2" in listed.out and "20 GB" in listed.out
    waited = _cli(scarce, home, "-o", "json", "volumes", "wait", str(vid))
    assert waited.json()["status"] == "active"
    assert _cli(scarce, home, "volumes", "delete", str(vid)).code == 0
    gone = _cli(scarce, home, "-o", "json", "volumes", "wait", str(vid), "--until", "deleted")
    assert gone.code == 0 and gone.json() == {"id": vid, "deleted": True}
    bad = _cli(scarce, home, "volumes", "create", "--name", "v", "--storage-type", "CEPH",
               "--size-in-gb", "5")
    assert bad.code == 2 and "region" in bad.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pods", "create", "--mount", "abc:/d"], "invalid volume id"),
        (["pods", "create", "--mount", "5"], "VOLUME_ID:/PATH"),
        (["pods", "create", "--credential", "x"], "invalid credential id"),
        (["pods", "create", "--credential", "\u00b2"], "invalid credential id"),
        (["volumes", "get", "0"], "invalid volume id"),
        (["volumes", "resize", "1", "10241"], "1 to 10240"),
        (["credentials", "create", "--name", "n", "--type", "QUAY", "--username", "u"], "invalid choice"),
        (["gpus", "--bogus"], "unrecognized"),
    ],
)
def test_bad_flags_exit_2(scarce: SimProcess, home: Path, args: list[str], message: str) -> None:
    result: Any = _cli(scarce, home, *args)
    assert result.code == 2 and message in result.err


# --- in-process, under --simulate ----------------------------------------------------------------


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from yotta_async.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_is_seeded_with_a_catalogue_a_credential_and_two_volumes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json

    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, _ = _main(capsys, "--simulate", "-o", "json", "gpus", "--gpu-type", H100)
    assert code == 0
    (h100,) = json.loads(out)
    by_region = {r["region"]: r["available"] for r in h100["regions"]}
    assert by_region["us-east-2"] is False and by_region["us-east-1"] is True
    assert [r["region"] for r in h100["regions"]][-1] == "us-east-2"  # unavailable last
    code, out, _ = _main(capsys, "--simulate", "-o", "json", "credentials", "list")
    assert code == 0 and [c["name"] for c in json.loads(out)] == ["demo-dockerhub"]
    code, out, _ = _main(capsys, "--simulate", "volumes", "list")
    assert code == 0 and "demo-data" in out and "demo-datasets" in out and "100 GB" in out
    code, out, err = _main(capsys, "--simulate", "gpus", "--available", "--region", "us-east-2",
                           "--gpu-type", H100)
    assert code == 0 and "us-east-2" not in out and "no GPU type matches" in err
    # pods create with a seeded volume and credential, as --simulate users would
    code, out, _ = _main(capsys, "--simulate", "-o", "json", "volumes", "list", "--storage-type", "CEPH")
    vid = json.loads(out)[0]["id"]
    code, out, _ = _main(capsys, "--simulate", "-o", "json", "credentials", "list")
    cid = json.loads(out)[0]["id"]
    code, out, err = _main(capsys, "--simulate", "-o", "json", "pods", "create", "--credential", str(cid),
                           "--mount", f"{vid}:/mnt/data")
    assert code == 0, err
    pod = json.loads(out)
    assert pod["containerRegistryAuthId"] == cid and pod["persistentVolumes"][0]["id"] == vid
    code, _, err = _main(capsys, "--simulate", "pods", "create", "--credential", "1",
                         "--container-registry-auth-id", "1")
    assert code == 2 and "not both" in err
