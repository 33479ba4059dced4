"""``Backoff``: capped exponential delays with jitter, shared by retries and waiters."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ._validation import check_number
from .errors import ValidationError

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter.

    The cap for attempt ``n`` (0-based) is ``min(maximum, initial * multiplier**n)``. With
    ``jitter=1.0`` (the default, "full jitter") the delay is uniform in ``[0, cap]``; with
    ``jitter=0.0`` it is exactly ``cap``; in between, ``cap * (1 - jitter * U(0, 1))``.

    >>> Backoff(initial=0.5, maximum=8, jitter=0).delay(3)
    4.0
    """

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 1.0

    def __post_init__(self) -> None:
        check_number(self.initial, "initial")
        check_number(self.maximum, "maximum")
        if not self.maximum >= self.initial:
            raise ValidationError("maximum", f"must be >= initial, got {self.maximum}")
        check_number(self.multiplier, "multiplier", minimum=1.0, inclusive=True)
        check_number(self.jitter, "jitter", inclusive=True)
        if not self.jitter <= 1:
            raise ValidationError("jitter", f"must be between 0 and 1, got {self.jitter}")

    def cap(self, attempt: int) -> float:
        """The largest delay attempt ``attempt`` can get."""
        if attempt <= 0:
            return min(self.maximum, self.initial)
        try:
            return min(self.maximum, self.initial * self.multiplier**attempt)
        except OverflowError:  # float ** int raises instead of giving inf; the cap is long reached
            return self.maximum

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The delay before retry number ``attempt`` (0-based), jittered."""
        cap = self.cap(attempt)
        if not self.jitter:
            return cap
        u = (rng or _RNG).random()
        return cap * (1.0 - self.jitter * u)


_RNG = random.Random()
