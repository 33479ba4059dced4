"""One rule set for caller input: ids, id iterables, numbers, names and timeouts."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ValidationError

__all__ = [
    "INT64_MAX",
    "ResourceId",
    "check_id",
    "check_ids",
    "check_bounded_int",
    "check_name",
    "check_names",
    "check_secret",
]

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


def check_name(value: object, field: str, *, max_len: int | None = None) -> str:
    """``value`` as a non-empty string of valid UTF-8 (at most ``max_len`` characters).

    A lone surrogate is refused here: the JSON encoder would raise later, mid-request.
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"expected a string, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(field, "must not be empty")
    if max_len is not None and len(value) > max_len:
        raise ValidationError(field, f"must be at most {max_len} characters, got {len(value)}")
    _check_utf8(value, field)
    return value


def check_names(values: object, field: str) -> list[str]:
    """A string or an iterable of strings, each through :func:`check_name`; duplicates dropped.

    A single ``str`` means one name (``regions="us-east-1"``), not its characters.
    """
    if isinstance(values, str):
        values = [values]
    if isinstance(values, (bytes, bytearray, memoryview)) or not isinstance(values, Iterable):
        raise ValidationError(field, f"expected a list of strings, got {type(values).__name__}")
    out = [check_name(value, f"{field}[{i}]") for i, value in enumerate(values)]
    return list(dict.fromkeys(out))


def check_bounded_int(value: object, field: str, *, lo: int, hi: int) -> int:
    """``value`` as an int between ``lo`` and ``hi`` inclusive (``bool`` refused)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(field, f"expected an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValidationError(field, f"must be between {lo} and {hi}, got {value}")
    return value


def check_secret(value: object, field: str) -> str:
    """A password or token: a non-empty string. Never echoes the value in the error."""
    if not isinstance(value, str):
        raise ValidationError(field, f"expected a string, got {type(value).__name__}")
    if not value:
        raise ValidationError(field, "must not be empty")
    _check_utf8(value, field)
    return value


def _check_utf8(value: str, field: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(field, "contains a lone surrogate, which is not valid UTF-8") from None
