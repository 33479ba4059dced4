"""``import yotta_async`` stays light: aiohttp (and rich) load only when needed."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after(code: str, *, only_added: bool = False) -> set[str]:
    # With only_added, only what ``code`` adds counts (under coverage the interpreter has
    # loaded more before it). Nothing is popped from sys.modules: on 3.12+ a re-imported
    # ``sys`` after that is a bare module without ``modules``.
    head = "import sys\n_before = set(sys.modules)\n" if only_added else "_before = set()\n"
    tail = "import sys\nprint('\\n'.join(set(sys.modules) - _before))"
    out = subprocess.run(
        [sys.executable, "-c", f"{head}{code}\n{tail}"],
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


def test_import_loads_only_models_and_errors() -> None:
    # The client stack (asyncio, anyio, the waiters) loads on first use of its names, so a
    # program that only needs the models or the errors does not pay for it. A new public
    # name whose module needs these belongs in yotta_async._LAZY.
    loaded = _modules_after(
        "import yotta_async\nfrom yotta_async import Pod, PodStatus, YottaError",
        only_added=True,
    )
    assert {"asyncio", "anyio", "email.utils", "ipaddress"}.isdisjoint(loaded)
    assert "yotta_async.models.pod" in loaded


def test_lazy_names_load_on_first_use_and_stay() -> None:
    import yotta_async

    client_cls = yotta_async.YottaClient
    assert client_cls is yotta_async.YottaClient  # cached in the module after the first use
    assert client_cls.__module__ == "yotta_async._client"
    loaded = _modules_after("from yotta_async import PodGroup")
    assert "asyncio" in loaded and "anyio" in loaded


def test_unknown_attribute_is_an_attribute_error() -> None:
    import yotta_async

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        yotta_async.Nope  # noqa: B018
    assert set(yotta_async.__all__) <= set(dir(yotta_async))
