"""The budget ledger: a group's hourly cost against its ``max_hourly_cost``, checked atomically.

A pod's cost is known only from the create *reply* (its price fields), so a cap cannot be
reserved before sending. Instead each reply is admitted by :meth:`BudgetLedger.admit`,
which checks and commits in one synchronous step: no ``await`` between reading the total and
adding to it, so on one event loop no two concurrent creates can both see room for one
more pod. A refused pod is deleted by the group at once, while it is still starting (billing
starts at RUNNING).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import BudgetExceededError, ValidationError
from .models import Pod

__all__ = ["BudgetLedger", "check_cap"]

_ZERO = Decimal(0)


def check_cap(value: object, field: str = "max_hourly_cost") -> Decimal:
    """``value`` (a ``Decimal``, an int or a decimal string) as a finite ``Decimal`` >= 0.

    A float is refused: ``Decimal("20.10")`` says what you mean, ``20.1`` may not.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ValidationError(
            field, f"must be a Decimal, an int or a decimal string, got {type(value).__name__}"
        )
    try:
        cap = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation:
        raise ValidationError(field, f"is not a decimal number: {value!r}") from None
    if not cap.is_finite() or cap < 0:
        raise ValidationError(field, f"must be a finite amount >= 0, got {value!r}")
    return cap


class BudgetLedger:
    """The hourly cost of the pods a group holds, and its cap (``None``: no cap, just a tally).

    ``total`` is the sum of the known costs; ``unknown`` counts pods whose cost is unknown
    (admitted only without a cap or with ``allow_unknown_cost=True``, and counted as zero
    against the cap).
    """

    def __init__(self, cap: Decimal | None = None, *, allow_unknown_cost: bool = False) -> None:
        if not isinstance(allow_unknown_cost, bool):
            raise ValidationError(
                "allow_unknown_cost", f"must be True or False, got {allow_unknown_cost!r}"
            )
        self.cap = cap
        self.allow_unknown_cost = allow_unknown_cost
        self.total = _ZERO
        self.unknown = 0
        self._costs: dict[int, Decimal | None] = {}
        self.refused: set[int] = set()

    def admit(self, pod: Pod) -> BudgetExceededError | None:
        """Commit ``pod``'s cost, or return the error that refuses it (nothing committed).

        Synchronous on purpose: the check and the commit cannot interleave with another
        create's. Admitting a pod already admitted (a reconciled create) changes nothing.
        """
        if pod.id in self._costs:
            return None
        cost = pod.hourly_cost
        cap = self.cap
        if cap is not None:
            if cost is None and not self.allow_unknown_cost:
                return self._refuse(
                    pod, cost, "its hourly cost is unknown (a price is missing) and the group has "
                    f"a cap of {cap}/h; pass allow_unknown_cost=True to accept such pods"
                )
            if cost is not None and self.total + cost > cap:
                return self._refuse(
                    pod, cost, f"it costs {cost}/h and the group already costs {self.total}/h, "
                    f"over its cap of {cap}/h"
                )
        self._costs[pod.id] = cost
        if cost is None:
            self.unknown += 1
        else:
            self.total += cost
        return None

    def _refuse(self, pod: Pod, cost: Decimal | None, why: str) -> BudgetExceededError:
        self.refused.add(pod.id)
        return BudgetExceededError(
            f"pod {pod.id} refused: {why}; it was deleted before it could run",
            cap=self.cap if self.cap is not None else _ZERO, total=self.total, pod_cost=cost,
            pod_id=pod.id,
        )

    def update(self, pod_id: int, cost: Decimal | None) -> None:
        """Change the cost of an admitted pod (a paused pod pays only for its storage)."""
        if pod_id in self._costs:
            self.release(pod_id)
            self._costs[pod_id] = cost
            if cost is None:
                self.unknown += 1
            else:
                self.total += cost

    def release(self, pod_id: int) -> None:
        """Stop counting a pod (deleted, failed, or gone)."""
        if pod_id not in self._costs:
            return
        cost = self._costs.pop(pod_id)
        if cost is None:
            self.unknown -= 1
        else:
            self.total -= cost

    def __contains__(self, pod_id: object) -> bool:
        return pod_id in self._costs
