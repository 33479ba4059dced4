"""The fault plan: seeded, per-route injection of 5xx, 429, resets, latency and lost replies."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

__all__ = ["Fault", "FaultPlan", "FaultRule"]

# What happens to one request before the handler runs ("reply lost" kinds happen after).
Fault = Literal["500", "502", "429", "reset", "latency", "lost_reset", "lost_500"]


@dataclass
class FaultRule:
    """Probabilities (0..1) of each fault on one route.

    ``error_500``, ``error_502``, ``rate_limit`` and ``reset`` are exclusive and drawn
    before the request is handled, so they never change state. ``latency`` (with
    ``latency_seconds`` of real delay) is drawn independently and may add to the others.
    ``lost_reset`` / ``lost_500`` are drawn only after a successful handler: the action
    *did* happen (e.g. the pod was created) but the client sees a dropped connection or a
    500. ``limit`` caps how many faults this rule injects in total (``None``: no cap), which
    makes "fail twice, then succeed" tests exact.
    """

    error_500: float = 0.0
    error_502: float = 0.0
    rate_limit: float = 0.0
    retry_after: float = 1.0
    reset: float = 0.0
    latency: float = 0.0
    latency_seconds: float = 0.0
    lost_reset: float = 0.0
    lost_500: float = 0.0
    limit: int | None = None
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in {"retry_after", "latency_seconds"} and value < 0:
                raise ValueError(f"{f.name} must be >= 0")
            if f.name in _PROBABILITIES and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be a probability between 0 and 1, got {value}")
        if self.error_500 + self.error_502 + self.rate_limit + self.reset > 1.0:
            raise ValueError("error_500 + error_502 + rate_limit + reset must not exceed 1")
        if self.lost_reset + self.lost_500 > 1.0:
            raise ValueError("lost_reset + lost_500 must not exceed 1")

    @property
    def exhausted(self) -> bool:
        """True once ``limit`` faults have been injected."""
        return self.limit is not None and self.fired >= self.limit


_PROBABILITIES = frozenset(
    {"error_500", "error_502", "rate_limit", "reset", "latency", "lost_reset", "lost_500"}
)


class FaultPlan:
    """Which faults to inject where. Deterministic for a given seed and request order.

    ``rules`` maps a route key such as ``"POST /v2/pods"`` or ``"GET /v2/pods/{id}"`` to a
    :class:`FaultRule`; ``"*"`` is the default for routes without their own rule. Routes in
    ``exempt`` never see faults. ``injected`` counts the faults injected, by kind.

    >>> plan = FaultPlan({"POST /v2/pods": FaultRule(lost_500=1.0)}, seed=1)
    >>> plan.rule_for("POST /v2/pods").lost_500
    1.0
    """

    def __init__(
        self,
        rules: Mapping[str, FaultRule] | None = None,
        *,
        seed: int = 0,
        exempt: Iterable[str] = (),
    ) -> None:
        self.rules: dict[str, FaultRule] = dict(rules or {})
        self.exempt = frozenset(exempt)
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(seed)

    @classmethod
    def everywhere(cls, *, seed: int = 0, exempt: Iterable[str] = (), **rule: float) -> FaultPlan:
        """One rule for every route: ``FaultPlan.everywhere(error_500=0.1, seed=3)``."""
        return cls({"*": FaultRule(**rule)}, seed=seed, exempt=exempt)  # type: ignore[arg-type]

    def set(self, route: str, rule: FaultRule | None = None, **kwargs: float) -> FaultRule:
        """Install (or replace) the rule for ``route`` and return it."""
        new = rule if rule is not None else FaultRule(**kwargs)  # type: ignore[arg-type]
        self.rules[route] = new
        return new

    def clear(self) -> None:
        """Remove every rule (counters are kept)."""
        self.rules.clear()

    def rule_for(self, route: str) -> FaultRule | None:
        """The rule that applies to ``route``, if any."""
        if route in self.exempt:
            return None
        rule = self.rules.get(route)
        if rule is None:
            rule = self.rules.get("*")
        if rule is None or rule.exhausted:
            return None
        return rule

    def before(self, route: str) -> tuple[Fault | None, float]:
        """(fault to inject instead of handling the request, or None; seconds of latency)."""
        rule = self.rule_for(route)
        if rule is None:
            return None, 0.0
        delay = 0.0
        if rule.latency and self._rng.random() < rule.latency:
            delay = rule.latency_seconds
            self._count(rule, "latency")
        draw = self._rng.random()
        fault: Fault | None = None
        for kind, p in (
            ("reset", rule.reset),
            ("502", rule.error_502),
            ("500", rule.error_500),
            ("429", rule.rate_limit),
        ):
            if draw < p:
                fault = kind  # type: ignore[assignment]
                break
            draw -= p
        if fault is not None and not rule.exhausted:
            self._count(rule, fault)
            return fault, delay
        return None, delay

    def after(self, route: str) -> Fault | None:
        """Whether to lose the reply of a request that was handled successfully."""
        rule = self.rule_for(route)
        if rule is None or not (rule.lost_reset or rule.lost_500):
            return None
        draw = self._rng.random()
        fault: Fault | None = None
        if draw < rule.lost_reset:
            fault = "lost_reset"
        elif draw < rule.lost_reset + rule.lost_500:
            fault = "lost_500"
        if fault is not None:
            self._count(rule, fault)
        return fault

    def _count(self, rule: FaultRule, kind: str) -> None:
        rule.fired += 1
        self.injected[kind] += 1

    def __repr__(self) -> str:
        return f"FaultPlan(rules={self.rules!r}, exempt={sorted(self.exempt)!r})"
