"""One rule set for caller input: ids, id iterables, numbers, names and timeouts.

It sits below the models (it imports nothing of the package but ``errors``), so the models'
own validation uses these same rules; the two checks that need a model live next to it
(``models.status.check_statuses``, ``models.request.check_create_request``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .errors import ValidationError

__all__ = [
    "INT64_MAX",
    "PodId",
    "ResourceId",
    "check_bounded_int",
    "check_callable",
    "check_id",
    "check_ids",
    "check_instance",
    "check_int",
    "check_items",
    "check_label",
    "check_name",
    "check_names",
    "check_new_enum_name",
    "check_number",
    "check_secret",
    "check_strings",
    "check_timeout",
    "check_token",
    "check_utf8",
]

T = TypeVar("T")

ResourceId = int | str
"""An API id as callers may pass it: an int, or a string of ASCII digits."""

PodId = ResourceId
"""A pod id as callers may pass it: ``123`` or ``"123"`` (checked as a positive int64)."""

INT64_MAX = 2**63 - 1

# Tokens and labels travel as env values through a shell inside the pod: a quote-free set.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
# A value of an API enum this SDK does not know yet (the API may add one): an upper-case name.
_ENUM_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
# Iterating any of these yields characters or small ints, never what the caller meant.
_NOT_ITERABLES = (str, bytes, bytearray, memoryview)


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


def check_items(values: object, field: str) -> list[Any]:
    """``values`` as a list; a ``str``/``bytes`` or a non-iterable is refused as a whole.

    >>> check_items(b"ab", "ids")
    Traceback (most recent call last):
    ...
    yotta_async.errors.ValidationError: ids: expected an iterable, got bytes
    """
    if isinstance(values, _NOT_ITERABLES) or not isinstance(values, Iterable):
        raise ValidationError(field, f"expected an iterable, got {type(values).__name__}")
    return list(values)


def check_ids(values: object, field: str = "ids") -> list[int]:
    """Every element of ``values`` through :func:`check_id`, in order.

    A ``str`` or ``bytes`` is refused as a whole: iterating it would yield characters or
    small ints (``b"ab"`` is pods 97 and 98), never what the caller meant.
    """
    if isinstance(values, _NOT_ITERABLES) or not isinstance(values, Iterable):
        raise ValidationError(field, f"expected an iterable of ids, got {type(values).__name__}")
    return [check_id(value, f"{field}[{i}]") for i, value in enumerate(values)]


def check_number(
    value: object,
    field: str,
    *,
    minimum: float = 0.0,
    inclusive: bool = False,
    allow_inf: bool = False,
) -> float:
    """``value`` as a float above ``minimum`` (or equal, if ``inclusive``).

    The one rule for infinity and NaN: NaN is always refused (it compares false with every
    bound, so it would slip through checks written as ``not value <= 0``); ``inf`` only
    where the caller asked for it (``allow_inf``: "wait forever", "no cap"). ``bool`` is
    refused although it is an ``int``.

    >>> check_number(float("inf"), "timeout", allow_inf=True)
    inf
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    ok = ok and not math.isnan(number) and (allow_inf or math.isfinite(number))
    ok = ok and (number >= minimum if inclusive else number > minimum)
    if not ok:
        kind = "number" if allow_inf else "finite number"
        raise ValidationError(
            field, f"must be a {kind} {'>=' if inclusive else '>'} {minimum:g}, got {value!r}"
        )
    return number


def check_int(value: object, field: str, *, minimum: int = 0) -> int:
    """``value`` as an int ``>= minimum`` (``bool`` refused)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationError(field, f"must be an integer >= {minimum}, got {value!r}")
    return value


def check_timeout(value: object, default: float, field: str = "timeout") -> float:
    """Seconds for a deadline: ``None`` means ``default``; ``math.inf`` means no deadline."""
    if value is None:
        return default
    return check_number(value, field, allow_inf=True)


def check_token(token: object, field: str = "client_token") -> str:
    """``token`` if it is 1-128 characters of ``[A-Za-z0-9_.:-]``; ``ValidationError`` otherwise."""
    if not isinstance(token, str) or not _NAME.match(token):
        raise ValidationError(
            field, f"must be 1-128 characters of letters, digits, '_', '.', ':' or '-', got {token!r}"
        )
    return token


def check_label(label: object, field: str = "label") -> str:
    """A group label: same alphabet and length as a token."""
    return check_token(label, field)


def check_strings(values: object, field: str) -> list[str]:
    """Non-empty strings; ``None`` is none, and one lone ``str`` is a list of one."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out = []
    for i, value in enumerate(check_items(values, field)):
        if not isinstance(value, str) or not value:
            raise ValidationError(f"{field}[{i}]", f"expected a non-empty string, got {value!r}")
        out.append(value)
    return out


def check_instance(value: object, kind: type[T], field: str) -> T:
    """``value`` if it is a ``kind``; ``ValidationError`` naming what it was otherwise."""
    if not isinstance(value, kind):
        raise ValidationError(field, f"expected a {kind.__name__}, got {type(value).__name__}")
    return value


def check_callable(value: object, field: str) -> Callable[..., Any]:
    """``value`` if it can be called."""
    if not callable(value):
        raise ValidationError(field, f"expected a callable, got {type(value).__name__}")
    return value


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
    check_utf8(value, field)
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
    check_utf8(value, field)
    return value


def check_utf8(value: str, field: str) -> None:
    """Refuse a lone surrogate in ``value``: the JSON encoder would raise later, mid-request."""
    # Scanned rather than encoded: a UnicodeEncodeError would carry the whole value (a
    # password, say) in its ``object``, and stay reachable as the ValidationError's context.
    if not value.isascii() and any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValidationError(field, "contains a lone surrogate, which is not valid UTF-8")


def check_new_enum_name(value: str, field: str, choices: Iterable[str]) -> str:
    """``value`` upper-cased, for an API enum value this SDK does not know yet.

    The API may add a storage or registry type before the SDK knows it; such a value is
    sent upper-cased if it looks like an enum name (``[A-Z][A-Z0-9_]*``, up to 64), and
    anything else is refused, naming the ``choices`` the SDK does know.

    >>> check_new_enum_name("nfs", "storage_type", ["CEPH", "S3"])
    'NFS'
    """
    text = value.strip().upper()
    if not _ENUM_NAME.fullmatch(text):
        raise ValidationError(
            field, f"expected one of {', '.join(choices)} (or a similar NAME), got {value!r:.40}"
        )
    return text
