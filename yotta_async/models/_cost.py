"""Exact hourly cost of a pod from its price fields (``Decimal`` throughout, never ``float``).

Resources spec §4.3: the pod response carries ``singleCardPrice``, ``containerVolumePrice``,
``persistentVolumePrice`` and ``persistentVolumes[].volumePrice``. A price may arrive as a JSON
number or as a decimal string (``"0.65"``); the models decode both straight into
``Decimal`` from the JSON text (msgspec parses the number's digits, never a binary float), so
sums over a thousand pods are exact.

The documented formula (``d:gpupods``) is: GPU unit price x number of GPUs, plus disk hourly
rate x disk GB, plus volume hourly rate x volume GB. Units and currency are *not* documented;
USD per GPU-hour and USD per GB-hour is the documented reading, and the one used here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pod import Pod

__all__ = ["hourly_cost", "storage_cost"]

_ZERO = Decimal(0)


def _price(value: Decimal | float | None) -> Decimal | None:
    """A usable price, or ``None``: NaN, infinities and negative prices are no price at all."""
    if value is None:
        return None
    # A model built in Python may hold an int or a float; str() keeps its shortest repr exact.
    price = value if isinstance(value, Decimal) else Decimal(str(value))
    if not price.is_finite() or price < 0:
        return None
    return price


def _component(price: Decimal | float | None, quantity: int | None) -> Decimal | None:
    """``price x quantity``; ``None`` when one is needed but missing.

    Nothing of a resource (quantity 0, or neither field present) costs nothing; a price for
    an unknown quantity, or a quantity without a price, is unknown.
    """
    if quantity is not None and quantity == 0:
        return _ZERO
    if price is None and quantity is None:
        return _ZERO
    checked = _price(price)
    if checked is None or quantity is None or quantity < 0:
        return None
    return checked * quantity


def storage_cost(pod: Pod) -> Decimal | None:
    """The storage part of :func:`hourly_cost`: container disk, legacy volume and volumes.

    A PAUSED pod still pays this (spec §4.3); ``None`` when a needed price or size is missing.
    """
    parts = [
        _component(pod.container_volume_price, pod.container_volume_in_gb),
        _component(pod.persistent_volume_price, pod.persistent_volume_in_gb),
    ]
    for volume in pod.persistent_volumes or ():
        parts.append(_component(volume.volume_price, volume.volume_size))
    return _sum(parts)


def hourly_cost(pod: Pod) -> Decimal | None:
    """What ``pod`` costs per hour while RUNNING, exactly; ``None`` if a needed price is missing.

    ``singleCardPrice x gpuCount + containerVolumePrice x containerVolumeInGb +
    persistentVolumePrice x persistentVolumeInGb + sum(volumePrice x volumeSize)`` over
    ``persistentVolumes[]``. A pod without GPUs (``gpuCount`` 0) needs no GPU price; a
    missing ``gpuCount`` makes the cost unknown. Never a guess.

    >>> from yotta_async.models import Pod
    >>> hourly_cost(Pod(id=1, status="RUNNING", gpu_count=2, single_card_price=Decimal("0.65")))
    Decimal('1.30')
    """
    if pod.gpu_count is None:
        return None
    return _sum([_component(pod.single_card_price, pod.gpu_count), storage_cost(pod)])


def _sum(parts: list[Decimal | None]) -> Decimal | None:
    total = _ZERO
    for part in parts:
        if part is None:
            return None
        total += part
    return total
