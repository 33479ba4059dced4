"""Client tokens: the env vars that let a lost create, a group's orphans and old leaks be found.

Every pod this SDK creates carries, unless the caller opts out, an environment variable
``YOTTA_ASYNC_TOKEN=<32 hex chars>`` that is unique to that one create call (the same value is
re-sent when the create is retried), and pods created through a group also carry
``YOTTA_ASYNC_GROUP=<label>``. The API echoes ``environmentVars`` in every pod it returns, so a
``GET /v2/pods`` listing tells whether a create whose reply was lost really made a pod, which
pods a cancelled group still owns, and which pods an earlier crashed run left behind.

The variables are visible inside the container like any other; they hold no secret.
Opt out per call with ``client.pods.create(request, client_token=False)`` (which also gives up
exactly-once reconciliation: an ambiguous failure is then raised as it is).

Reconciliation (``client.pods.create``), on an *ambiguous* failure
(:func:`yotta_async._protocol.is_ambiguous`):

1. list the pods (a listing that started after the failure; concurrent creates share one,
   see :class:`PodLister`) and look for the token: found means created, and that pod is
   returned;
2. otherwise wait ``client.pods.reconcile_settle`` seconds (default 2) and list again, so a
   create the server was still processing, or a listing that lags behind creates, is caught;
3. only if both listings lack the token is the create sent again, with the same token, after
   the usual backoff, within the client's ``max_retries``.

Limits: a create that surfaces later than the second listing is made twice (both pods carry
the same token, so group cleanup deletes both and ``sweep`` finds a leftover); if every
listing fails, the create's own error is raised with a note saying the pod may exist; and a
process killed outright (SIGKILL) runs no cleanup at all: ``client.pods.sweep`` is the
remedy for what it leaves.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable

import anyio
import msgspec

from ._protocol import is_ambiguous
from ._validation import check_label, check_token
from .errors import ValidationError
from .models import EnvVar, Pod, PodCreateRequest

__all__ = [
    "GROUP_ENV",
    "RESERVED_ENV",
    "TOKEN_ENV",
    "PodLister",
    "annotate",
    "check_label",
    "check_token",
    "group_of",
    "is_ambiguous",
    "matching",
    "new_token",
    "stamp",
    "token_of",
]

TOKEN_ENV = "YOTTA_ASYNC_TOKEN"
"""The environment variable that carries a create's client token on the pod (exactly-once, sweep)."""
GROUP_ENV = "YOTTA_ASYNC_GROUP"
"""The environment variable that carries a pod group's label on each of its pods."""
RESERVED_ENV = frozenset({TOKEN_ENV, GROUP_ENV})

def new_token() -> str:
    """A fresh, random client token (uuid4 as 32 hex characters)."""
    return uuid.uuid4().hex


def stamp(request: PodCreateRequest, token: str, group: str | None = None) -> PodCreateRequest:
    """A copy of ``request`` whose environment also carries the token (and group label).

    Raises ``ValidationError`` if the request already sets one of the reserved variables,
    because two different values for one key would make reconciliation ambiguous.

    >>> req = PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1)
    >>> [v.key for v in stamp(req, "abc", "nightly").environment_vars or []]
    ['YOTTA_ASYNC_TOKEN', 'YOTTA_ASYNC_GROUP']
    """
    env = list(request.environment_vars or ())
    for i, var in enumerate(env):
        if var.key in RESERVED_ENV:
            raise ValidationError(
                f"environment_vars[{i}].key",
                f"{var.key} is reserved for yotta-async's client token; pass client_token=... "
                "to choose the token, or client_token=False to opt out",
            )
    env.append(EnvVar(key=TOKEN_ENV, value=token))
    if group is not None:
        env.append(EnvVar(key=GROUP_ENV, value=group))
    return msgspec.structs.replace(request, environment_vars=env)


def token_of(pod: Pod) -> str | None:
    """The client token a pod was created with, or ``None``."""
    return pod.env(TOKEN_ENV)


def group_of(pod: Pod) -> str | None:
    """The group label a pod was created with, or ``None``."""
    return pod.env(GROUP_ENV)


class PodLister:
    """Single-flight ``GET /v2/pods`` for reconciliation: concurrent callers share one listing.

    When 1,000 parallel creates meet a burst of 5xx, each needs a listing that *started after*
    its own failure, but they do not each need their own: :meth:`fresh` joins a listing that
    started late enough, or starts one.
    """

    def __init__(self, fetch: Callable[[], Awaitable[list[Pod]]]) -> None:
        self._fetch = fetch
        self._started = 0  # how many listings have been started
        self._current: tuple[int, anyio.Event, list[object]] | None = None

    def mark(self) -> int:
        """A watermark: a later :meth:`fresh` (mark) returns a listing started after now."""
        return self._started

    async def fresh(self, mark: int) -> list[Pod]:
        """Every pod, from a listing that started after ``mark`` was taken."""
        while True:
            current = self._current
            if current is not None and current[0] > mark:
                _, done, box = current
                await done.wait()
                if box and not isinstance(box[0], BaseException):
                    return box[0]  # type: ignore[return-value]
                if box and isinstance(box[0], Exception):
                    raise box[0]
                continue  # the leader was cancelled: lead a new listing ourselves
            return await self._lead()

    async def _lead(self) -> list[Pod]:
        self._started += 1
        done = anyio.Event()
        box: list[object] = []
        self._current = (self._started, done, box)
        try:
            pods = await self._fetch()
            box.append(pods)
            return pods
        except Exception as exc:
            box.append(exc)
            raise
        finally:
            if self._current is not None and self._current[1] is done:
                self._current = None
            done.set()


def annotate(exc: BaseException, text: str) -> None:
    """Add ``text`` as a note on ``exc`` (PEP 678: ``exc.__notes__``, shown under its traceback).

    Python 3.10 has no ``add_note``; the list is kept by hand there, so callers can read
    ``__notes__`` on every version (and the ``exceptiongroup`` backport prints them).
    """
    add_note = getattr(exc, "add_note", None)
    if callable(add_note):
        add_note(text)
        return
    notes = getattr(exc, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        try:
            exc.__notes__ = notes  # type: ignore[attr-defined,unused-ignore]
        except AttributeError:  # pragma: no cover - an exception type with __slots__
            return
    notes.append(text)


def matching(pods: Iterable[Pod], tokens: set[str] | frozenset[str]) -> list[Pod]:
    """The pods whose client token is in ``tokens``."""
    return [p for p in pods if token_of(p) in tokens]
