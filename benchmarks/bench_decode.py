"""Benchmark 1: decode a 1,000-pod ``GET /v2/pods`` body into typed models.

Three subjects decode the same bytes:

* yotta-async: the SDK's own path (``_protocol.parse_reply``, exactly what the session
  runs on every reply, with the decoder built at import), giving ``list[Pod]`` msgspec Structs;
* pydantic v2: the same schema as ``BaseModel``s, validated from bytes by a ``TypeAdapter``
  (see ``_pydantic_models``; pydantic's fastest documented path);
* ``json.loads``: plain dicts, which is what the official ``yottaml`` SDK returns
  (``requests.Response.json()`` is ``json.loads`` of the text).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from benchmarks._common import Row, have, interleaved, missing, ratio_row
from benchmarks._fixtures import list_body
from yotta_async import _protocol as proto
from yotta_async.resources.pods import POD_LIST_DECODER

BENCH = "1. decode"
SUBJECTS = ("yotta-async (msgspec Structs)", "pydantic v2 models", "json.loads (dicts, as yottaml)")
_HEADERS: dict[str, str] = {}
SIZES = {"smoke": (50, 3, 1), "quick": (1000, 15, 5), "full": (1000, 41, 10)}  # pods, rounds, inner


def _sdk(body: bytes) -> int:
    pods = proto.parse_reply(body, 200, _HEADERS, POD_LIST_DECODER, "GET", "/v2/pods")
    return len(pods or ())


def _pydantic(body: bytes) -> int:
    from benchmarks._pydantic_models import POD_LIST

    return len(POD_LIST.validate_json(body).data or ())


def _json_loads(body: bytes) -> int:
    return len(json.loads(body)["data"])


def run(mode: str) -> list[Row]:
    """Time the decoders on the same body, interleaved; ratios against yotta-async."""
    n, rounds, inner = SIZES[mode]
    body = list_body(n)
    sdk_name, pyd_name, json_name = SUBJECTS
    subjects = {sdk_name: _sdk, json_name: _json_loads}
    if have("pydantic"):
        subjects[pyd_name] = _pydantic
    for fn in subjects.values():  # warm up, and prove each decodes every pod
        assert fn(body) == n, fn

    def looped(fn: Callable[[bytes], int]) -> Callable[[], object]:
        return lambda: [fn(body) for _ in range(inner)]

    times = interleaved({k: looped(v) for k, v in subjects.items()}, rounds)
    per_call = {k: [t / inner for t in v] for k, v in times.items()}
    sdk = per_call[sdk_name]  # paired with each competitor's run of the same round
    metric = f"time per {n:,}-pod body"
    rows = [
        ratio_row(
            BENCH,
            sdk_name,
            metric,
            per_call[sdk_name],
            sdk,
            unit="ms",
            scale=1e3,
            note=f"{len(body) / 1e6:.2f} MB body; GC on, collected between runs",
        )
    ]
    if pyd_name in per_call:
        rows.append(
            ratio_row(
                BENCH,
                pyd_name,
                metric,
                per_call[pyd_name],
                sdk,
                unit="ms",
                scale=1e3,
                target="<= 0.10 (>= 10x faster)",
                check=lambda r: r <= 0.10,
            )
        )
    else:
        rows.append(missing(BENCH, pyd_name, "pydantic"))
    rows.append(
        ratio_row(
            BENCH,
            json_name,
            metric,
            per_call[json_name],
            sdk,
            unit="ms",
            scale=1e3,
            target="<= 1.00 (no slower)",
            check=lambda r: r <= 1.0,
        )
    )
    return rows
