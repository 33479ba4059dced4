"""Crash-safe expiry: an absolute deadline written on the pod itself, and who acts on it.

A pod created with ``client.pods.create(..., expires_in=...)``, or through a group made with
``ttl=...``, carries the environment variable ``YOTTA_ASYNC_EXPIRES=<unix seconds>`` (an
integer, rounded up), beside its client token. A group whose ``on_expire`` is ``"pause"``
also writes ``YOTTA_ASYNC_ON_EXPIRE=pause``. The API echoes ``environmentVars`` in every pod
it returns, so the deadline survives the process that wrote it: SIGKILL, an OOM kill or a
lost machine included.

Three things act on it:

* a pod group, while its block is open, applies ``on_expire`` to each of its pods as it
  expires (on the client's clock, so a ``ManualClock`` drives it in tests);
* ``client.pods.sweep(expired=True)`` deletes (or pauses) every pod whose stamp has passed,
  whoever made it, allowing :data:`DEFAULT_EXPIRY_GRACE` for clock skew between the machine
  that wrote the stamp and the one that reads it;
* ``yotta-async sweep --expired --every 60``, the reaper, does that once a minute.

A pod without a stamp, or with one that does not parse, is never treated as expired.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

import msgspec

from .errors import ValidationError
from .models import EnvVar, Pod, PodCreateRequest, PodStatus

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DEFAULT_EXPIRY_GRACE",
    "EXPIRES_ENV",
    "EXPIRY_ENV",
    "ON_EXPIRE_ENV",
    "OnExpire",
    "check_grace",
    "check_on_expire",
    "check_ttl",
    "deadline_after",
    "expired",
    "expires_at",
    "expiry_policy",
    "stamp_expiry",
    "sweep_action",
]

EXPIRES_ENV = "YOTTA_ASYNC_EXPIRES"
"""The environment variable that stamps a pod's absolute expiry (unix seconds), written by
``ttl=`` / ``expires_in=`` and read by ``sweep(expired=True)``."""
ON_EXPIRE_ENV = "YOTTA_ASYNC_ON_EXPIRE"
EXPIRY_ENV = frozenset({EXPIRES_ENV, ON_EXPIRE_ENV})
# Clock skew allowed between the machine that stamped a pod and the one sweeping it.
DEFAULT_EXPIRY_GRACE = timedelta(seconds=60)
"""How long past its stamp a pod must be before ``sweep(expired=True)`` acts on it (clock skew)."""

OnExpire = Literal["delete", "pause"]
_ON_EXPIRE = ("delete", "pause")
_STAMP = re.compile(r"^\s*([0-9]{1,15})(?:\.[0-9]*)?\s*$", re.ASCII)


def check_ttl(value: object, field: str = "ttl") -> timedelta:
    """``value`` (a ``timedelta`` or seconds) as a positive, finite ``timedelta``."""
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValidationError(field, f"must be a positive duration, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise ValidationError(field, f"must be a timedelta or seconds > 0, got {value!r}")
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise ValidationError(field, f"is too large for a timedelta, got {value!r}") from None


def check_grace(value: object, field: str = "grace") -> timedelta:
    """``value`` (a ``timedelta`` or seconds, ``None`` for the default) as a ``timedelta`` >= 0."""
    if value is None:
        return DEFAULT_EXPIRY_GRACE
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValidationError(field, f"must not be negative, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ValidationError(field, f"must be a timedelta or seconds >= 0, got {value!r}")
    return timedelta(seconds=value)


def check_on_expire(value: object, field: str = "on_expire") -> OnExpire:
    """``"delete"`` or ``"pause"``; ``ValidationError`` otherwise."""
    if value not in _ON_EXPIRE:
        raise ValidationError(field, f"must be 'delete' or 'pause', got {value!r}")
    return value  # type: ignore[return-value]


def deadline_after(ttl: timedelta, wall: Callable[[], float] = time.time) -> int:
    """The unix second ``ttl`` from now, rounded up (a stamp never expires early)."""
    return math.ceil(wall() + ttl.total_seconds())


def stamp_expiry(
    request: PodCreateRequest, at: int, on_expire: OnExpire = "delete", field: str = "expires_in"
) -> PodCreateRequest:
    """A copy of ``request`` whose environment carries the expiry stamp (and its policy).

    Raises ``ValidationError`` if the request already sets a stamp of its own: two deadlines
    on one pod would leave the reaper guessing.

    >>> req = PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1)
    >>> [(v.key, v.value) for v in stamp_expiry(req, 1767225600).environment_vars or []]
    [('YOTTA_ASYNC_EXPIRES', '1767225600')]
    """
    env = list(request.environment_vars or ())
    for var in env:
        if var.key in EXPIRY_ENV:
            raise ValidationError(
                field, f"the request already sets {var.key}; give the expiry one way only"
            )
    env.append(EnvVar(key=EXPIRES_ENV, value=str(at)))
    if on_expire != "delete":
        env.append(EnvVar(key=ON_EXPIRE_ENV, value=on_expire))
    return msgspec.structs.replace(request, environment_vars=env)


def expires_at(pod: Pod) -> datetime | None:
    """When ``pod`` expires, from its stamp; ``None`` without a (well-formed) stamp."""
    raw = pod.env(EXPIRES_ENV)
    match = _STAMP.match(raw) if raw is not None else None
    if match is None:
        return None
    try:
        return datetime.fromtimestamp(int(match.group(1)), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def expiry_policy(pod: Pod) -> OnExpire:
    """What its creator asked for when ``pod`` expires: ``"pause"`` if stamped so, else ``"delete"``."""
    return "pause" if pod.env(ON_EXPIRE_ENV) == "pause" else "delete"


def expired(pod: Pod, now: datetime, grace: timedelta = DEFAULT_EXPIRY_GRACE) -> bool:
    """Whether ``pod``'s stamp passed more than ``grace`` before ``now``."""
    at = expires_at(pod)
    return at is not None and now - at >= grace


def sweep_action(pod: Pod, on_expire: OnExpire | None) -> OnExpire | None:
    """What an expiry sweep does to an expired ``pod``; ``None``: nothing (yet).

    ``on_expire`` overrides the policy stamped on the pod. Under ``"pause"`` only a RUNNING
    pod can be paused: a pod still starting is left for a later sweep, and a paused,
    failed or terminating one needs nothing.
    """
    action = on_expire if on_expire is not None else expiry_policy(pod)
    if action == "pause" and pod.status is not PodStatus.RUNNING:
        return None
    return action

