"""Shared test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aioresponses import aioresponses

from tests._aioresponses_compat import CompatClientResponse


@pytest.fixture
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, patched for aiohttp >= 3.14 (see tests/_aioresponses_compat.py)."""
    import aioresponses.core as core

    monkeypatch.setattr(core, "ClientResponse", CompatClientResponse)
    with aioresponses() as mocked:
        yield mocked
