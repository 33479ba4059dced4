"""Checking pod ids before they reach a URL."""

from __future__ import annotations

from ..errors import ValidationError

PodId = int | str

_INT64_MAX = 2**63 - 1


def pod_id(value: object, field: str = "pod_id") -> int:
    """``value`` as a positive int64 pod id; ``ValidationError`` otherwise.

    Digit strings are accepted because some documentation shows ids as strings.
    """
    # isascii: str.isdigit() also accepts "²" (int() refuses it) and fullwidth digits (int() takes them).
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(field, f"expected an integer pod id, got {type(value).__name__}")
    if not 0 < value <= _INT64_MAX:
        raise ValidationError(field, f"must be a positive int64, got {value}")
    return value
