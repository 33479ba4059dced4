"""GPU types and where they are offered (``GET /v2/vms/types``), and the ``Placement`` value type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._base import Model

__all__ = ["GpuRegion", "GpuType", "Placement"]


class GpuRegion(Model, kw_only=True):
    """One region where a GPU type is offered, and whether it can be had there now.

    ``available`` and ``vm_type_id`` are ``None`` when the API lists the region as a plain
    string (a documented variant): "offered here, availability unknown". ``vm_type_id`` is
    what ``POST /v2/vms`` takes; pods do not use it.
    """

    region: str
    region_name: str | None = None
    available: bool | None = None
    vm_type_id: int | None = None


class GpuType(Model, kw_only=True):
    """A GPU type (``gpuType``, e.g. ``NVIDIA_H100_80G``) and its regions, in the API's order.

    ``regions`` entries arrive as objects (``{region, regionName, available, vmTypeId}``) or,
    in one documented variant, as plain region strings; both decode to :class:`GpuRegion`.
    No price is documented for this endpoint: a pod's price shows on the pod once created.
    """

    gpu_type: str
    if TYPE_CHECKING:
        regions: list[GpuRegion] = []
    else:
        # The wire may carry plain strings; __post_init__ turns them into GpuRegion.
        regions: list[GpuRegion | str] = []

    def __post_init__(self) -> None:
        if any(isinstance(r, str) for r in self.regions):
            self.regions = [GpuRegion(region=r) if isinstance(r, str) else r for r in self.regions]

    def placements(self) -> list[Placement]:
        """One :class:`Placement` per region, in the API's order, carrying ``available``."""
        return [Placement(self.gpu_type, r.region, available=r.available) for r in self.regions]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where to put a pod: a GPU type in one region. A hashable value; compares by both fields.

    ``available`` is what the catalogue said when the placement was made (``None``:
    unknown). It is information only: it does not take part in equality or hashing, so
    ``Placement("NVIDIA_H100_80G", "us-east-1")`` equals the same placement found available.

    >>> Placement("NVIDIA_H100_80G", "us-east-1") == Placement("NVIDIA_H100_80G", "us-east-1", available=True)
    True
    """

    gpu_type: str
    region: str
    available: bool | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.gpu_type}@{self.region}"
