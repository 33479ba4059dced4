"""One rule set for caller input: ids, id iterables, numbers, names and timeouts."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ValidationError

__all__ = ["INT64_MAX", "ResourceId", "check_id", "check_ids"]

ResourceId = int | str
"""An API id as callers may pass it: an int, or a string of ASCII digits."""

INT64_MAX = 2**63 - 1


def check_id(value: object, field: str = "id") -> int:
    """``value`` as a positive int64 id; ``ValidationError`` naming ``field`` otherwise.

    Digit strings are accepted because the API and its documentation show ids as strings
    too (they exceed 2**53, so JavaScript clients keep them as text).
    """
    # isascii: str.isdigit() also accepts "²" (int() refuses it) and fullwidth digits (int() takes them).
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(field, f"expected an integer id, got {type(value).__name__}")
    if not 0 < value <= INT64_MAX:
        raise ValidationError(field, f"must be a positive int64, got {value}")
    return value


def check_ids(values: object, field: str = "ids") -> list[int]:
    """Every element of ``values`` through :func:`check_id`, in order.

    A ``str`` or ``bytes`` is refused as a whole: iterating it would yield characters or
    small ints (``b"ab"`` is pods 97 and 98), never what the caller meant.
    """
    if isinstance(values, (str, bytes, bytearray, memoryview)) or not isinstance(values, Iterable):
        raise ValidationError(field, f"expected an iterable of ids, got {type(values).__name__}")
    return [check_id(value, f"{field}[{i}]") for i, value in enumerate(values)]
