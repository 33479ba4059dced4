"""A ``str`` enum base that keeps values it does not know instead of refusing them."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

__all__ = ["OpenEnum"]

E = TypeVar("E", bound="OpenEnum")


class OpenEnum(str, enum.Enum):
    """A string enum that decodes unknown values to pseudo-members keeping the server's text.

    Matching ignores case (``_fold`` picks how); an unknown value becomes a member-like
    object whose ``is_known`` is False, cached per class (at most 256 per class).
    """

    @classmethod
    def _fold(cls, text: str) -> str:
        return text.upper()

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a valid {cls.__name__}")
        folded = cls._fold(value.strip())
        for member in cls:
            if cls._fold(member.value) == folded:
                return member
        return _unknown(cls, value)

    @property
    def is_known(self) -> bool:
        """False for a value this SDK does not recognise (kept as the server sent it)."""
        return self.name in type(self).__members__

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}.{self.name}" if self.is_known else f"{name}({self.value!r})"


_UNKNOWN: dict[tuple[type, str], Any] = {}
_PER_CLASS_LIMIT = 256


def _unknown(cls: type[E], value: str) -> E:
    key = (cls, value)
    member = _UNKNOWN.get(key)
    if member is None:
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        if sum(1 for k in _UNKNOWN if k[0] is cls) < _PER_CLASS_LIMIT:  # a hostile server cannot grow it
            _UNKNOWN[key] = member
    return member
