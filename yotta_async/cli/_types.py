"""argparse types for the CLI's values, each on the SDK's own rule (``_validation``).

An id on the command line is checked exactly as ``client.pods.get(id)`` checks it, and a
positive number exactly as a client setting is (NaN and infinity refused), so a value the
CLI accepts is never refused later by the SDK, and the other way round.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .._validation import check_id, check_int, check_number
from ..errors import ValidationError

__all__ = ["positive_float", "positive_int", "resource_id"]


def resource_id(kind: str) -> Callable[[str], int]:
    """An argparse type for a ``kind`` id (``"pod"``, ``"volume"``, ...): a positive int64.

    >>> resource_id("volume")(" 42 ")
    42
    """

    def parse(text: str) -> int:
        try:
            return check_id(text, f"{kind} id")
        except ValidationError:
            raise argparse.ArgumentTypeError(
                f"invalid {kind} id {text[:40]!r}: expected a positive integer"
            ) from None

    parse.__name__ = f"{kind}_id"
    return parse


def positive_int(text: str) -> int:
    """An integer >= 1 given as ASCII digits (argparse type)."""
    digits = text.strip()
    try:
        if not (digits.isascii() and digits.isdigit()):
            raise ValidationError("value", "not digits")
        return check_int(int(digits), "value", minimum=1)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text[:40]!r}") from None


def positive_float(text: str) -> float:
    """A finite number > 0 (argparse type): ``inf`` and ``nan`` are refused, as in the SDK."""
    try:
        return check_number(float(text), "value")
    except (ValueError, ValidationError):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text[:40]!r}") from None
