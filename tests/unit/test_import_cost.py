"""``import yotta_async`` stays light: aiohttp (and rich) load only when needed."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_import_does_not_load_aiohttp_or_rich() -> None:
    loaded = _modules_after("import yotta_async")
    assert "aiohttp" not in loaded
    assert "rich" not in loaded


def test_building_a_client_loads_aiohttp() -> None:
    loaded = _modules_after("import yotta_async\nyotta_async.YottaClient('k')")
    assert "aiohttp" in loaded
