"""``client.gpu_types``: the GPU catalogue (``GET /v2/vms/types``) and where a type can be had now."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from .._protocol import ReplyDecoder
from .._runtime import Runtime
from .._session import Session
from .._validation import check_name, check_names
from ..models.gpu import GpuType, Placement

__all__ = ["GpuTypes", "matching"]

# Built once, at import. ``data: null`` is read as an empty catalogue.
GPU_TYPES_DECODER: ReplyDecoder[list[GpuType] | None] = ReplyDecoder(list[GpuType] | None)

_PREFIXES = ("NVIDIA_", "AMD_")


class GpuTypes:
    """The GPU catalogue (``client.gpu_types``).

    ::

        for t in await client.gpu_types.list():
            print(t.gpu_type, [(r.region, r.available) for r in t.regions])
        where = await client.gpu_types.placements("NVIDIA_H100_80G")
        if where and where[0].available:
            pod = await client.pods.create(..., gpu_type=where[0].gpu_type, regions=[where[0].region])

    Not documented by the API, and so not assumed here: whether ``available`` also covers
    pods (it is documented for VMs), whether it depends on ``gpuCount``, and how fresh it is.
    Treat it as a hint for ordering; a launch must still handle a pod that ends FAILED.
    """

    def __init__(self, transport: Session, runtime: Runtime) -> None:
        self._transport = transport
        self._runtime = runtime

    async def list(self) -> builtins.list[GpuType]:
        """Every GPU type with the regions it is offered in (``GET /v2/vms/types``)."""
        types = await self._transport.request("GET", "/v2/vms/types", GPU_TYPES_DECODER)
        return types or []

    async def placements(
        self, gpu_type: str | None = None, *, regions: Iterable[str] | str | None = None
    ) -> builtins.list[Placement]:
        """Where ``gpu_type`` (or any type, if ``None``) is offered: available ones first.

        ::

            placements = await client.gpu_types.placements("NVIDIA_H100_80G",
                                                           regions=["us-east-1", "us-west-1"])
            best = placements[0]   # Placement(gpu_type=..., region=..., available=True)

        The order is stable: placements reported available first, then those of unknown
        availability (regions the API listed as plain strings), then unavailable ones.
        Within each group the order is the caller's ``regions`` order if given, else the
        API's order. ``regions`` keeps only those regions.

        A ``gpu_type`` is matched exactly; if nothing matches exactly, it is matched
        ignoring an ``NVIDIA_``/``AMD_`` prefix, because the sources spell types both ways.
        The placement carries the API's own spelling, which is what a pod create needs.
        An unknown type gives an empty list.
        """
        wanted = None if gpu_type is None else check_name(gpu_type, "gpu_type")
        region_filter = None if regions is None else check_names(regions, "regions")
        types = await self.list()
        if wanted is not None:
            types = matching(types, wanted)
        found: builtins.list[Placement] = []
        seen: set[Placement] = set()
        for placement in (p for t in types for p in t.placements()):
            if placement not in seen:  # a region listed twice for one type keeps its first entry
                seen.add(placement)
                found.append(placement)
        if region_filter is not None:
            rank = {region: i for i, region in enumerate(region_filter)}
            found = sorted((p for p in found if p.region in rank), key=lambda p: rank[p.region])
        # sorted() is stable, so the order within each availability group is kept.
        return sorted(found, key=_availability_rank)


def matching(types: builtins.list[GpuType], gpu_type: str) -> builtins.list[GpuType]:
    """The entries of ``types`` for ``gpu_type``: exact matches, else ignoring a vendor prefix.

    >>> [t.gpu_type for t in matching([GpuType(gpu_type="RTX_4090_24G")], "NVIDIA_RTX_4090_24G")]
    ['RTX_4090_24G']
    """
    exact = [t for t in types if t.gpu_type == gpu_type]
    return exact or [t for t in types if _bare(t.gpu_type) == _bare(gpu_type)]


def _bare(gpu_type: str) -> str:
    upper = gpu_type.upper()
    for prefix in _PREFIXES:
        if upper.startswith(prefix):
            return upper[len(prefix) :]
    return upper


def _availability_rank(placement: Placement) -> int:
    return {True: 0, None: 1, False: 2}[placement.available]
