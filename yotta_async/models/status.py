"""``PodStatus``: the documented pod states, their aliases, and room for unknown ones."""

from __future__ import annotations

import enum
from typing import Any, Literal

from .._validation import check_items
from ..errors import ValidationError

__all__ = [
    "ENDING",
    "LEAVING",
    "PAUSE_SETTLED",
    "TERMINAL",
    "TRANSITIONAL",
    "PodStatus",
    "StatusLike",
    "StatusName",
    "WaitUntil",
    "check_statuses",
    "decode_status",
]

# Names other sources use for the same states (API-NOTES.md, "Status vocabulary").
_ALIASES = {
    "INITIALIZE": "INITIALIZING",
    "STOPPING": "PAUSING",
    "STOPPED": "PAUSED",
}
# v1 integer codes, still sent by the provider's own CLI.
_LEGACY = ("INITIALIZING", "RUNNING", "PAUSING", "PAUSED", "TERMINATING", "TERMINATED", "FAILED")


class PodStatus(str, enum.Enum):
    """A pod's status.

    Aliases decode to their canonical member (``PodStatus("STOPPED") is PodStatus.PAUSED``),
    and so do the legacy integers 0-6 (``PodStatus(3) is PodStatus.PAUSED``). A status
    this SDK does not know decodes to a pseudo-member that keeps the server's text::

        >>> s = PodStatus("HIBERNATING")
        >>> s.value, s.is_known
        ('HIBERNATING', False)
    """

    PENDING = "PENDING"
    PREPARING = "PREPARING"
    INITIALIZING = "INITIALIZING"
    RUNNING = "RUNNING"
    PAUSING = "PAUSING"
    PAUSED = "PAUSED"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"
    FAILED = "FAILED"

    @classmethod
    def _missing_(cls, value: object) -> PodStatus:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(_LEGACY):
            return cls(_LEGACY[value])
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a pod status")
        text = value.strip().upper()
        if text in _ALIASES:
            return cls(_ALIASES[text])
        if text.isascii() and text.isdigit() and int(text) < len(_LEGACY):
            return cls(_LEGACY[int(text)])
        if text in cls.__members__:
            return cls[text]
        return _unknown(cls, value)

    @property
    def is_known(self) -> bool:
        """False for a status string this SDK does not recognise."""
        return self.name in type(self).__members__

    @property
    def is_terminal(self) -> bool:
        """TERMINATED and FAILED never change again."""
        return self in TERMINAL

    @property
    def is_transitional(self) -> bool:
        """States on the way to another state (PENDING, INITIALIZING, PAUSING, ...)."""
        return self in TRANSITIONAL

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"PodStatus.{self.name}" if self.is_known else f"PodStatus({self.value!r})"


_UNKNOWN: dict[str, PodStatus] = {}


def _unknown(cls: Any, value: str) -> PodStatus:
    # Cached so that a stream of pods with one unknown status does not allocate per pod.
    member = _UNKNOWN.get(value)
    if member is None:
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        if len(_UNKNOWN) < 256:  # a hostile server cannot grow this without bound
            _UNKNOWN[value] = member
    return member


def decode_status(value: object) -> PodStatus:
    """A status as the wire sends it: a name, an alias, or a v1 integer.

    Unlike ``PodStatus(...)``, an integer outside the v1 range becomes an unknown status
    (its text kept) instead of an error, because a server may invent new codes.
    """
    if isinstance(value, PodStatus):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < len(_LEGACY):
            return PodStatus(_LEGACY[value])
        return _unknown(PodStatus, str(value))
    if isinstance(value, str):
        return PodStatus(value)
    raise ValueError(f"{value!r} is not a pod status")


# The one home of status groupings: waiters, groups, sweep and the CLI all use these.
TERMINAL = frozenset({PodStatus.TERMINATED, PodStatus.FAILED})
"""Statuses that never change again."""
TRANSITIONAL = frozenset(
    {
        PodStatus.PENDING,
        PodStatus.PREPARING,
        PodStatus.INITIALIZING,
        PodStatus.PAUSING,
        PodStatus.TERMINATING,
    }
)
"""States on the way to another state."""
LEAVING = frozenset({PodStatus.TERMINATING, PodStatus.TERMINATED})
"""On the way out, or out: nothing left to delete."""
ENDING = frozenset({PodStatus.FAILED}) | LEAVING
"""From these a pod never runs (or pauses) again."""
PAUSE_SETTLED = frozenset({PodStatus.PAUSED}) | ENDING
"""Nothing more to do for a pause: paused, or not billing and never coming back."""

# What a ``statuses=`` filter or ``until=`` accepts besides PodStatus members, spelled out so
# that mypy catches a typo such as "RUNING" (the run-time check catches it too).
StatusName = Literal[
    "PENDING", "PREPARING", "INITIALIZING", "RUNNING", "PAUSING", "PAUSED", "TERMINATING",
    "TERMINATED", "FAILED", "INITIALIZE", "STOPPING", "STOPPED",
]
LegacyStatusCode = Literal[0, 1, 2, 3, 4, 5, 6]
StatusLike = PodStatus | StatusName | LegacyStatusCode
WaitUntil = PodStatus | Literal["RUNNING", "PAUSED", "TERMINATED", "running", "paused", "terminated"]


def check_statuses(values: object, field: str = "statuses") -> list[PodStatus]:
    """Known pod statuses (members, names, aliases or legacy ints); a lone one is a list of one."""
    if values is None:
        return []
    if isinstance(values, (str, int)):
        values = [values]
    out = []
    for i, value in enumerate(check_items(values, field)):
        try:
            status = PodStatus(value)
        except ValueError:
            raise ValidationError(f"{field}[{i}]", f"not a pod status: {value!r}") from None
        if not status.is_known:
            raise ValidationError(f"{field}[{i}]", f"not a pod status: {value!r}")
        out.append(status)
    return out
