"""The simulator's GPU catalogue: the regions each type is offered in, capacity, and who holds it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ._render import DEFAULT_REGION, catalogue_types

__all__ = ["DEFAULT_REGIONS", "GpuCatalogue", "Holder", "region_name"]

DEFAULT_REGIONS = ("us-east-1", "us-east-2", "us-east-3", "us-west-1", "ap-southeast-1")
_REGION_NAMES = {
    "us-east-1": "US East 1",
    "us-east-2": "US East 2",
    "us-east-3": "US East 3",
    "us-west-1": "US West 1",
    "ap-southeast-1": "Asia Pacific (Singapore)",
}
Key = Any  # (gpu_type, region) for a regional limit, gpu_type for a global one


def region_name(region: str) -> str:
    """A human label for a region code (``regionName``)."""
    return _REGION_NAMES.get(region, region)


class Holder(Protocol):
    """What the catalogue needs of a pod holding GPUs."""

    id: int
    gpus: int


class GpuCatalogue:
    """Which GPU types each region offers, with a capacity in GPUs per ``(gpu_type, region)``.

    ``offers[gpu_type][region]`` is the capacity there (``None``: unlimited). A type that has
    offers exists only in those regions; a type with none (e.g. an unknown spelling such as
    ``"g"``) is unlimited everywhere and not listed. ``limits[gpu_type]`` is an optional
    cap across every region. Pods hold their GPUs (see :meth:`hold`) until the store's
    ``is_live`` predicate says they are TERMINATED or FAILED, so ``available`` and
    placement always reflect the capacity that remains.
    """

    def __init__(
        self,
        offers: Mapping[str, Mapping[str, int | None]] | None = None,
        capacity: Mapping[Any, int] | None = None,
    ) -> None:
        source = offers if offers is not None else default_offers()
        self.offers: dict[str, dict[str, int | None]] = {g: dict(r) for g, r in source.items()}
        self.limits: dict[str, int] = {}
        regional: dict[str, dict[str, int | None]] = {}
        for key, n in (capacity or {}).items():
            if isinstance(key, tuple):
                regional.setdefault(key[0], {})[key[1]] = n
            else:
                self.limits[key] = n
        # Per-region entries given as ``capacity`` replace that type's offers: the type then
        # exists only in those regions (the simulator's long-standing rule).
        self.offers.update(regional)
        self._held: dict[Key, dict[int, Holder]] = {}
        self._vm_type_ids: dict[tuple[str, str], int] = {}
        self._prune_at: dict[Key, int] = {}
        for gpu, regions in self.offers.items():
            for region in regions:
                self._vm_type_id(gpu, region)

    # -- configuration -----------------------------------------------------------------
    def set_capacity(self, gpu_type: str, region: str, gpus: int | None) -> None:
        """Offer ``gpu_type`` in ``region`` with ``gpus`` GPUs in total (``None``: unlimited).

        Pods already holding GPUs there keep them; lowering the capacity below what they
        hold makes the placement unavailable until enough of them end.
        """
        if gpus is not None and (not isinstance(gpus, int) or isinstance(gpus, bool) or gpus < 0):
            raise ValueError(f"capacity must be a non-negative int or None, got {gpus!r}")
        self.offers.setdefault(gpu_type, {})[region] = gpus
        self._vm_type_id(gpu_type, region)

    def remove(self, gpu_type: str, region: str | None = None) -> None:
        """Stop offering ``gpu_type`` in ``region`` (every region if ``None``)."""
        if region is None:
            self.offers.pop(gpu_type, None)
        else:
            self.offers.get(gpu_type, {}).pop(region, None)

    # -- queries -----------------------------------------------------------------------
    def remaining(self, gpu_type: str, region: str, is_live: Callable[[Holder], bool]) -> int | None:
        """GPUs still free for ``gpu_type`` in ``region`` (``None``: unlimited; 0 if not offered)."""
        regions = self.offers.get(gpu_type)
        if regions is not None and region not in regions:
            return 0
        free: int | None = None
        for key in self._keys(gpu_type, region):
            left = max(0, self._limit(key) - self._used(key, is_live))
            free = left if free is None else min(free, left)
        return free

    def listing(self, is_live: Callable[[Holder], bool]) -> list[dict[str, Any]]:
        """The ``GET /v2/vms/types`` data: each offered type with its regions, in a stable order."""
        out = []
        for gpu, regions in self.offers.items():
            entries = []
            for region in regions:
                free = self.remaining(gpu, region, is_live)
                entries.append(
                    {
                        "region": region,
                        "regionName": region_name(region),
                        "available": free is None or free >= 1,
                        "vmTypeId": self._vm_type_id(gpu, region),
                    }
                )
            if entries:
                out.append({"gpuType": gpu, "regions": entries})
        return out

    # -- placement ---------------------------------------------------------------------
    def place(
        self, gpu_type: str, gpus: int, regions: Iterable[str], is_live: Callable[[Holder], bool]
    ) -> tuple[str, tuple[Key, ...], bool]:
        """(region, keys to hold, whether GPUs were free) for a new pod.

        The first of ``regions`` (or, with none, the default region and then every offered
        one) that offers the type and has room wins; with no room anywhere the pod gets the
        first candidate region and no GPUs.
        """
        offered = self.offers.get(gpu_type)
        candidates = list(regions)
        if not candidates:
            extra = sorted(set(offered or ()) - {DEFAULT_REGION})
            candidates = [DEFAULT_REGION, *extra]
        for region in candidates:
            if offered is not None and region not in offered:
                continue
            keys = self._keys(gpu_type, region)
            if all(self._used(k, is_live) + gpus <= self._limit(k) for k in keys):
                return region, self._tracked(gpu_type, region), True
        return candidates[0], (), False

    def hold(self, pod: Holder, keys: Iterable[Key], is_live: Callable[[Holder], bool]) -> None:
        """Record that ``pod`` holds its GPUs under ``keys`` (released once it is not live)."""
        for key in keys:
            holders = self._held.setdefault(key, {})
            holders[pod.id] = pod
            # Unlimited keys are never counted, so prune them now and then: ended pods must
            # not pile up here over a long run. Amortised O(1) per pod.
            if len(holders) >= self._prune_at.get(key, 64):
                self._used(key, is_live)
                self._prune_at[key] = max(64, 2 * len(holders))

    # -- internals ---------------------------------------------------------------------
    def _keys(self, gpu_type: str, region: str) -> list[Key]:
        """The limited keys that apply to one placement."""
        keys: list[Key] = []
        if self.offers.get(gpu_type, {}).get(region) is not None:
            keys.append((gpu_type, region))
        if gpu_type in self.limits:
            keys.append(gpu_type)
        return keys

    def _tracked(self, gpu_type: str, region: str) -> tuple[Key, ...]:
        # Usage of every offered placement is tracked, limited or not, so that a capacity
        # set later during a run counts the pods already there.
        keys: list[Key] = []
        if gpu_type in self.offers:
            keys.append((gpu_type, region))
        if gpu_type in self.limits:
            keys.append(gpu_type)
        return tuple(keys)

    def _limit(self, key: Key) -> int:
        if isinstance(key, tuple):
            limit = self.offers.get(key[0], {}).get(key[1])
            return limit if limit is not None else 2**63
        return self.limits[key]

    def _used(self, key: Key, is_live: Callable[[Holder], bool]) -> int:
        holders = self._held.get(key)
        if not holders:
            return 0
        used = 0
        for pod_id, pod in list(holders.items()):
            if is_live(pod):
                used += pod.gpus
            else:
                del holders[pod_id]  # TERMINATED/FAILED pods give their GPUs back
        return used

    def _vm_type_id(self, gpu_type: str, region: str) -> int:
        key = (gpu_type, region)
        if key not in self._vm_type_ids:
            self._vm_type_ids[key] = len(self._vm_type_ids) + 1
        return self._vm_type_ids[key]

    def __repr__(self) -> str:
        return f"GpuCatalogue(types={len(self.offers)}, limits={self.limits!r})"


def default_offers() -> dict[str, dict[str, int | None]]:
    """Every catalogued GPU type in every default region, with unlimited capacity."""
    return {gpu: dict.fromkeys(DEFAULT_REGIONS) for gpu in catalogue_types()}
