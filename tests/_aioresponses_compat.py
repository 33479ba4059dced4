"""Test-side shim: aioresponses 0.7.9 cannot build responses on aiohttp >= 3.14.

aiohttp 3.14 made ``ClientResponse.__init__`` require a ``stream_writer`` argument and reads
only its ``output_size``; aioresponses does not pass one (pnuckowski/aioresponses#289).
aiohttp 3.14 is a security release, so we do not pin below it: instead the fixture in
``conftest.py`` swaps in a subclass that supplies a stand-in writer. Delete this module and
that fixture once aioresponses ships a release with the fix.
"""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse


class _NoWriter:
    output_size = 0


class CompatClientResponse(ClientResponse):
    """``ClientResponse`` that tolerates a missing ``stream_writer``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _NoWriter())
        super().__init__(*args, **kwargs)
