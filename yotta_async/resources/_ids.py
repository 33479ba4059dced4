"""Pod ids: the alias callers use, checked by the shared validation rules."""

from __future__ import annotations

from .._validation import ResourceId, check_id

PodId = ResourceId


def pod_id(value: object, field: str = "pod_id") -> int:
    """``value`` as a positive int64 pod id; ``ValidationError`` otherwise."""
    return check_id(value, field)
