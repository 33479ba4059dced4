"""The knobs users need are public and the README names them (issue 17, item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

import yotta_async

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["WatchPolicy", "PodId", "OnExit", "TOKEN_ENV", "GROUP_ENV"])
def test_exported_and_named_in_the_readme(name: str) -> None:
    assert name in yotta_async.__all__ and hasattr(yotta_async, name)
    assert f"`{name}`" in README


@pytest.mark.parametrize(
    "name", ["watch_policy", "reconcile_settle", "PodCreateFields", "yotta_factory", "yotta_clock"]
)
def test_settings_and_testing_names_are_in_the_readme(name: str) -> None:
    assert name in README
