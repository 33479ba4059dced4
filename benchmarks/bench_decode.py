"""Benchmark 1: decode a 1,000-pod ``GET /v2/pods`` body into typed models.

Three subjects decode the same bytes:

* yotta-async: the SDK's own path (``_protocol.parse_reply``, exactly what the session
  runs on every reply, with the decoder built at import), giving ``list[Pod]`` msgspec Structs;
* pydantic v2: the same schema as ``BaseModel``s, validated from bytes by a ``TypeAdapter``
  (see ``_pydantic_models``; pydantic's fastest documented path);
* ``json.loads``: plain dicts, which is what the official ``yottaml`` SDK returns
  (``requests.Response.json()`` is ``json.loads`` of the text).

Where the time goes: the same body through three stripped-down msgspec
schemas built from ``Pod``'s own fields, timed in the same rounds, so that the table shows the
floor under the SDK's figure:

* parse only: every object skipped (``list[<empty Struct>]``): the JSON scan, no objects;
* msgspec, pydantic's schema: ``Pod``'s fields with the competitor's types (float prices, no
  ``__post_init__``): what any msgspec model of this body costs;
* + exact prices: the same with ``Decimal`` prices, as the SDK decodes them.

The SDK's own figure adds its two hooks on top of the last: ``Pod.__post_init__`` (a v1
integer status) and ``PersistentVolume.__post_init__`` (a float price kept exactly).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from types import GenericAlias
from typing import Any

import msgspec

from benchmarks._common import Row, have, interleaved, median, missing, ratio_row
from benchmarks._fixtures import list_body
from yotta_async import _protocol as proto
from yotta_async.models import PersistentVolume, Pod, PodStatus
from yotta_async.resources.pods import POD_LIST_DECODER

BENCH = "1. decode"
SUBJECTS = ("yotta-async (msgspec Structs)", "pydantic v2 models", "json.loads (dicts, as yottaml)")
_HEADERS: dict[str, str] = {}
SIZES = {"smoke": (50, 3, 1), "quick": (1000, 15, 5), "full": (1000, 41, 10)}  # pods, rounds, inner
FLOOR = (
    "floor: parse only (no objects)",
    "floor: msgspec, pydantic's schema (float prices, no hooks)",
    "floor: + exact Decimal prices (no hooks)",
)


def _stripped(model: Any, *, prices: type, **types: Any) -> Any:
    """``model``'s fields as a new Struct with no ``__post_init__``; prices typed ``prices``."""
    fields = []
    for f in msgspec.structs.fields(model):
        kind = types.get(f.name, f.type)
        if f.name.endswith("price"):
            kind = prices | None
        fields.append((f.name, kind) if f.required else (f.name, kind, f.default))
    return msgspec.defstruct(f"{model.__name__}Floor", fields, rename="camel", kw_only=True, gc=False)


def _floor_decoders() -> dict[str, Callable[[bytes], int]]:
    """The stripped-down schemas of the module docstring, as decoders of the same envelope."""

    class Skip(msgspec.Struct):
        pass

    def counted(data_type: Any) -> Callable[[bytes], int]:
        decoder = msgspec.json.Decoder(proto.Result[data_type], strict=False)
        return lambda body: len(decoder.decode(body).data)

    out = {FLOOR[0]: counted(list[Skip])}
    for name, price in ((FLOOR[1], float), (FLOOR[2], Decimal)):
        volume = _stripped(PersistentVolume, prices=price)
        volumes = GenericAlias(list, (volume,)) | None
        pod = _stripped(Pod, prices=price, status=PodStatus, persistent_volumes=volumes)
        out[name] = counted(GenericAlias(list, (pod,)))
    return out


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
    subjects.update(_floor_decoders())
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
    pyd = per_call.get(pyd_name)
    for name in FLOOR:
        if name not in per_call:
            continue
        vs_pyd = ""
        if pyd is not None:
            paired = median([a / b for a, b in zip(per_call[name], pyd, strict=True)])
            vs_pyd = f"; {paired:.3f} of pydantic's time"
        rows.append(
            ratio_row(
                BENCH,
                name,
                metric,
                per_call[name],
                sdk,
                unit="ms",
                scale=1e3,
                note=f"where the time goes{vs_pyd}",
            )
        )
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
