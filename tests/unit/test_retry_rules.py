"""The pure retry rules in ``_protocol``: transient, never processed, ambiguous. No I/O."""

from __future__ import annotations

import pytest

from yotta_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    InvalidStateError,
    PodNotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    ValidationError,
    YottaError,
)
from yotta_async._protocol import (
    RETRY_ALWAYS,
    RETRY_NEVER,
    RETRY_UNSENT,
    is_ambiguous,
    is_transient,
    may_retry,
    never_processed,
)

REFUSED = APIConnectionError("refused", request_sent=False)
RESET = APIConnectionError("reset", request_sent=True)
TIMEOUT = APITimeoutError("slow")
E500 = ServerError("boom", http_status=500)
E10002 = ServerError("busy", code=10002, http_status=200)
E429 = RateLimitError("slow down", http_status=429)
GARBLED_200 = ResponseDecodeError("bad json", http_status=200)
GARBLED_502 = ResponseDecodeError("html", http_status=502)
GARBLED_404 = ResponseDecodeError("html", http_status=404)
NOT_FOUND_5XX = PodNotFoundError("gone", code=13000, http_status=500)
E401 = AuthenticationError("key", http_status=401)
E10001 = InvalidRequestError("bad", code=10001, http_status=200)
STATE = InvalidStateError("not now", code=12001, http_status=200)
BAD_INPUT = ValidationError("name", "empty")

# failure: (transient, never processed, ambiguous)
TABLE: list[tuple[YottaError, bool, bool, bool]] = [
    (REFUSED, True, True, False),
    (RESET, True, False, True),
    (TIMEOUT, True, False, True),
    (E500, True, False, True),
    (E10002, True, False, True),
    (E429, True, True, False),
    (GARBLED_200, False, False, True),  # a 2xx with a garbled body most likely made the pod
    (GARBLED_502, True, False, True),
    (GARBLED_404, False, False, False),
    (NOT_FOUND_5XX, False, False, False),  # a definite answer, even on a 5xx
    (E401, False, False, False),
    (E10001, False, False, False),
    (STATE, False, False, False),
    (BAD_INPUT, False, False, False),
]


@pytest.mark.parametrize(("exc", "transient", "unprocessed", "ambiguous"), TABLE)
def test_each_failure_is_classified(
    exc: YottaError, transient: bool, unprocessed: bool, ambiguous: bool
) -> None:
    assert is_transient(exc) is transient
    assert never_processed(exc) is unprocessed
    assert is_ambiguous(exc) is ambiguous
    # A failure that proves nothing was done can never be ambiguous.
    assert not (unprocessed and ambiguous)


@pytest.mark.parametrize(("exc", "transient", "unprocessed", "ambiguous"), TABLE)
def test_may_retry_by_mode(
    exc: YottaError, transient: bool, unprocessed: bool, ambiguous: bool
) -> None:
    assert may_retry(exc, RETRY_ALWAYS) is transient
    assert may_retry(exc, RETRY_UNSENT) is (transient and unprocessed)
    assert may_retry(exc, RETRY_NEVER) is False
    # Once reconciliation proves an ambiguous create made nothing, it may be sent again.
    assert may_retry(exc, RETRY_UNSENT, proven_unprocessed=True) is True
    assert may_retry(exc, RETRY_NEVER, proven_unprocessed=True) is False
