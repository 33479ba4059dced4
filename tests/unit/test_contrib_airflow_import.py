"""The Airflow provider package imports without Airflow, and says how to get it when needed."""

from __future__ import annotations

import sys

import pytest

import yotta_async.contrib.airflow as provider


def test_provider_info_needs_no_airflow() -> None:
    info = provider.get_provider_info()
    assert info["package-name"] == "yotta-async"
    assert info["connection-types"] == [
        {"connection-type": "yotta", "hook-class-name": "yotta_async.contrib.airflow.hooks.YottaHook"}
    ]


def test_without_airflow_the_classes_explain_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    prefixes = ("airflow.", provider.__name__ + ".")
    for name in [m for m in sys.modules if m == "airflow" or m.startswith(prefixes)]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "airflow", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'yotta-async\[airflow\]'"):
        provider.YottaHook  # noqa: B018
    with pytest.raises(AttributeError):
        provider.NoSuchThing  # noqa: B018
