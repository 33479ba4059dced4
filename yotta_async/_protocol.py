"""Pure protocol rules: headers, envelope decoding, error choice, ``Retry-After``, retry verdicts."""

from __future__ import annotations

import mmap
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import msgspec

from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    CredentialNotFoundError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    PodNotFoundError,
    RateLimitError,
    ResourceInUseError,
    ResponseDecodeError,
    ServerError,
    VolumeNotFoundError,
    YottaError,
)

T = TypeVar("T")

# How a call may be retried (``Session.request(retry=...)``).
RETRY_ALWAYS = "always"
# Creates are retried only on failures that prove the server never processed them.
RETRY_UNSENT = "unsent"
# Waiters and the watcher retry on their own schedule, within their deadline.
RETRY_NEVER = "never"
RetryMode = str

SUCCESS = 10000
# No result code for "no capacity" on POST /v2/pods is documented (resources-v2.md §6). The
# only capacity-like code the provider documents is Elastic's 24000 ("Serverless
# unavailable"), so the simulator refuses an over-capacity create with that one, and it is
# the only code YottaClient(capacity_error_codes=...) recognises by default. Failover replaces
# a pod refused with one of these; any other create error is raised as it is.
CAPACITY_ERROR_CODE = 24000
"""The result code the simulator refuses a create with when a GPU type has no capacity left
(the default of ``YottaClient(capacity_error_codes=...)``; the real API documents none)."""
DEFAULT_CAPACITY_ERROR_CODES: frozenset[int] = frozenset({CAPACITY_ERROR_CODE})
CODE_ERRORS: Mapping[int, type[APIError]] = {
    10001: InvalidRequestError,
    10002: ServerError,
    10004: PermissionDeniedError,
    11002: PermissionDeniedError,
    10007: NotFoundError,
    11000: NotFoundError,
    12000: NotFoundError,
    13000: NotFoundError,
    11001: InvalidStateError,
    12001: InvalidStateError,
    25002: ResourceInUseError,
}
IN_USE_CODE = 25002
MAX_MESSAGE = 1000
# A 401 says where the key came from, so the user knows which of the three to fix.
KEY_HINT = (
    "check the API key: it comes from the api_key argument (--api-key on the command line), "
    "else the YOTTA_API_KEY environment variable, else (command line) the profile in ~/.yotta/config"
)
RETRYABLE_HTTP = frozenset({429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset({10002})
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-trace-id", "x-amzn-trace-id")
# delta-seconds is digits only (RFC 9110); a fraction is tolerated, a sign or exponent is not.
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]+)?")


class Envelope(msgspec.Struct):
    """``{"code": int, "message": str, "data": ...}``; ``data`` is kept raw for a second pass."""

    code: int
    message: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")


# Lenient like the data decoders: a code or an id sent as a JSON string still decodes.
_ENVELOPE = msgspec.json.Decoder(Envelope, strict=False)
_DECODE_FAILURES = (msgspec.DecodeError, ValueError, TypeError, RecursionError)


class Result(msgspec.Struct, Generic[T], kw_only=True):
    """A whole envelope with ``data`` typed: the one-pass decoding of a success reply."""

    code: int
    data: T
    message: str | None = None


class ReplyDecoder(Generic[T]):
    """The decoders for one reply's ``data`` type, built once (at import, by the resources).

    ``data`` decodes the payload alone; the whole-envelope decoder lets a success reply be
    decoded in one pass, with no intermediate copy of the body.

    >>> ReplyDecoder(int).decode(b"5")
    5
    """

    __slots__ = ("_whole", "data")

    def __init__(self, data_type: Any) -> None:
        self.data: msgspec.json.Decoder[T] = msgspec.json.Decoder(data_type, strict=False)
        self._whole: msgspec.json.Decoder[Result[T]] = msgspec.json.Decoder(Result[data_type], strict=False)

    def decode(self, body: bytes) -> T:
        """Decode a bare ``data`` payload (raises msgspec errors; for tests and tools)."""
        return self.data.decode(body)

    def success(self, body: bytes | bytearray | mmap.mmap) -> Result[T] | None:
        """The reply as a typed envelope, or ``None`` if it does not decode as one."""
        try:
            return self._whole.decode(body)
        except _DECODE_FAILURES:
            return None


def parse_reply(
    raw: bytes | bytearray | mmap.mmap,
    http_status: int,
    headers: Mapping[str, str],
    decoder: ReplyDecoder[T],
    method: str,
    path: str,
    secret: bytes = b"",
    more_secrets: Sequence[bytes] = (),
) -> T:
    """A reply's typed ``data``, or the ``YottaError`` it stands for.

    A success reply (HTTP 200, code 10000, data of the right shape) takes one decoding
    pass. Anything else falls back to decoding the envelope first, so that errors name
    exactly what was wrong. Errors quote the body, so ``secret`` (the API key) and
    ``more_secrets`` (a registry password the request carried) are blanked out of it
    first, in case a server or proxy echoes the request.
    """
    if http_status == 200:
        result = decoder.success(raw)
        if result is not None and result.code == SUCCESS:
            return result.data
    # Not a success: errors keep the body as bytes.
    raw = redact(bytes(raw), (secret, *more_secrets))
    try:
        envelope = decode_envelope(raw, http_status, method, path)
    except ResponseDecodeError:
        # A proxy's HTML page on 401, 409, 429 or 5xx still means that status: say so, keeping
        # the body. Only a reply that claims success (or another 4xx) stays a ResponseDecodeError.
        if http_status in (401, 409, 429) or http_status >= 500:
            err = error_for(http_status, None, method=method, path=path, headers=headers, body=raw)
            assert err is not None
            raise err from None
        raise
    err = error_for(http_status, envelope, method=method, path=path, headers=headers, body=raw)
    if err is not None:
        raise err
    return decode_data(decoder, envelope, http_status, method, path)


def redact(raw: bytes, secrets: Sequence[bytes]) -> bytes:
    """``raw`` with every non-empty secret replaced by ``[redacted]``.

    Also each run of 4+ characters of the secret that JSON never escapes: a server that
    echoes a request body inside its own JSON escapes quotes and backslashes once per
    level, so the whole secret may not appear, but those runs still do.
    """
    for secret in secrets:
        if not secret:
            continue
        forms = [secret, msgspec.json.encode(secret.decode("utf-8", "replace"))[1:-1]]
        forms += [run for run in _ESCAPED.split(secret) if len(run) >= 4]
        for form in forms:
            if form in raw:
                raw = raw.replace(form, b"[redacted]")
    return raw


# Bytes JSON may write differently from the raw secret: quote, backslash, controls, non-ASCII.
_ESCAPED = re.compile(rb'["\\/\x00-\x1f\x7f-\xff]')


def in_use_details(data: bytes) -> dict[str, Any]:
    """``pod_list``, ``elastic_list`` and ``pod_ids`` from a code-25002 reply's raw ``data``.

    The element shapes are not documented: a pod id is taken from an integer, a digit
    string, or an object's ``id`` / ``podId``; anything else is kept only in ``pod_list``.
    """
    try:
        value = msgspec.json.decode(data)
    except _DECODE_FAILURES:
        return {}
    if not isinstance(value, dict):
        return {}
    out: dict[str, Any] = {}
    for wire, name in (("podList", "pod_list"), ("elasticList", "elastic_list")):
        if isinstance(value.get(wire), list):
            out[name] = value[wire]
    ids: list[int] = []
    for item in out.get("pod_list", ()):
        if isinstance(item, dict):
            item = item.get("id", item.get("podId"))
        if isinstance(item, str) and item.isascii() and item.isdigit():
            item = int(item)
        if isinstance(item, int) and not isinstance(item, bool) and item > 0 and item not in ids:
            ids.append(item)
    out["pod_ids"] = ids
    return out


def build_headers(api_key: str, user_agent: str) -> dict[str, str]:
    """The headers every request carries."""
    return {"X-Api-Key": api_key, "User-Agent": user_agent, "Accept": "application/json"}


def request_id(headers: Mapping[str, str]) -> str | None:
    """The server's request id, if the response carries one.

    Header names are case-insensitive; a plain ``dict`` is searched that way too.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in _REQUEST_ID_HEADERS:
        value = lowered.get(name)
        if value:
            return value
    return None


def decode_envelope(
    body: bytes, http_status: int, method: str | None = None, path: str | None = None
) -> Envelope:
    """Decode the envelope, or raise ``ResponseDecodeError`` keeping status and a body snippet."""
    try:
        return _ENVELOPE.decode(body)
    # msgspec raises UnicodeDecodeError for invalid UTF-8 and RecursionError for deep nesting.
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:
        what = "empty body" if not body.strip() else f"not a JSON result envelope ({exc})"
        raise ResponseDecodeError(what, http_status=http_status, body=body, method=method, path=path) from exc


def decode_data(
    decoder: ReplyDecoder[T],
    envelope: Envelope,
    http_status: int,
    method: str | None = None,
    path: str | None = None,
) -> T:
    """Decode ``envelope.data`` with ``decoder``; wrong shapes raise ``ResponseDecodeError``."""
    try:
        return decoder.data.decode(envelope.data)
    except _DECODE_FAILURES as exc:
        raise ResponseDecodeError(
            f"data has the wrong shape ({exc})",
            http_status=http_status,
            body=bytes(envelope.data),
            method=method,
            path=path,
        ) from exc


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    A date in the past means "now" (``0.0``); anything unparseable, negative or not finite
    is ``None``, so the caller falls back to its own backoff.

    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    """
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        import email.utils  # HTTP-dates are rare; the email package is kept off the import path

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


_NOT_FOUND_BY_PATH: tuple[tuple[str, type[NotFoundError]], ...] = (
    ("/v2/pods/", PodNotFoundError),
    ("/v2/container-registry-auths/", CredentialNotFoundError),
    ("/v2/volumes/", VolumeNotFoundError),
)


def not_found_error(path: str) -> type[NotFoundError]:
    """The ``NotFoundError`` subclass for a request path: the resource the path names by id.

    A collection path (``POST /v2/pods``) names no one resource: a not-found reply there means
    something the request refers to is missing (a credential, a volume), so it stays a plain
    ``NotFoundError``.

    >>> not_found_error("/v2/volumes/7").__name__
    'VolumeNotFoundError'
    >>> not_found_error("/v2/pods").__name__
    'NotFoundError'
    """
    for prefix, cls in _NOT_FOUND_BY_PATH:
        if path.startswith(prefix) and len(path) > len(prefix):
            return cls
    return NotFoundError


def error_for(
    http_status: int,
    envelope: Envelope | None,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes = b"",
) -> APIError | None:
    """The error a response stands for, or ``None`` for success.

    The envelope code wins where it names a known error; the HTTP status decides otherwise
    (401, 429, 5xx). An unknown non-success code becomes a plain ``APIError`` that keeps it.
    """
    code = envelope.code if envelope is not None else None
    if code == SUCCESS and http_status < 400:
        return None
    message = (envelope.message if envelope is not None else None) or _status_text(http_status, body)
    if len(message) > MAX_MESSAGE:  # a broken server must not push megabytes into errors and logs
        message = f"{message[:MAX_MESSAGE]}... ({len(message) - MAX_MESSAGE} more characters)"
    kw: dict[str, Any] = {
        "code": code,
        "http_status": http_status,
        "method": method,
        "path": path,
        "request_id": request_id(headers),
        "body": body,
    }
    if http_status == 401:
        return AuthenticationError(f"{message}; {KEY_HINT}", **kw)
    if http_status == 429:
        return RateLimitError(message, retry_after=parse_retry_after(headers.get("Retry-After")), **kw)
    cls = CODE_ERRORS.get(code) if code is not None else None
    if cls is ResourceInUseError:
        details = in_use_details(envelope.data) if envelope is not None else {}
        return ResourceInUseError(message, **details, **kw)
    if cls is NotFoundError:
        return not_found_error(path)(message, **kw)
    if cls is not None:
        return cls(message, **kw)
    if http_status >= 500:
        return ServerError(message, **kw)
    if http_status == 403:
        return PermissionDeniedError(message, **kw)
    if http_status == 404:
        return not_found_error(path)(message, **kw)
    if http_status == 400:
        return InvalidRequestError(message, **kw)
    if http_status == 409:
        return InvalidStateError(message, **kw)
    return APIError(message, **kw)


def is_retryable_status(http_status: int, code: int | None) -> bool:
    """Whether a response is worth retrying (429, 500/502/503/504, code 10002).

    A 5xx whose envelope carries a definite business answer (pod not found, invalid state,
    ...) is not retried: asking again cannot change that answer.
    """
    if http_status == 429 or code in RETRYABLE_CODES:
        return True
    if code is not None and code in CODE_ERRORS:
        return False
    return http_status in RETRYABLE_HTTP


def _status_text(http_status: int, body: bytes) -> str:
    snippet = body[:120].decode("utf-8", "replace").strip()
    return f"HTTP {http_status}" + (f": {snippet}" if snippet else "")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying: connection trouble, 429, 5xx or code 10002.

    >>> is_transient(ServerError("boom", http_status=503))
    True
    """
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, APIError):
        return is_retryable_status(exc.http_status or 0, exc.code)
    if isinstance(exc, ResponseDecodeError):
        return exc.http_status is not None and is_retryable_status(exc.http_status, None)
    return False


def never_processed(exc: BaseException) -> bool:
    """Whether the failure proves the server did not act on the request (429, refused)."""
    if isinstance(exc, RateLimitError):
        return True
    return isinstance(exc, APIConnectionError) and not exc.request_sent


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed create may nevertheless have made a pod.

    True for a dropped connection or timeout after the request was sent, a 5xx or code
    10002 reply, and an undecodable reply that was not a 4xx (a 2xx with a garbled body most
    likely *did* create the pod). Everything else (validation, 4xx business errors, 401,
    429, connection refused) proves the server did not act.
    """
    if isinstance(exc, APIConnectionError):
        return exc.request_sent
    if isinstance(exc, ServerError):
        return True
    if isinstance(exc, ResponseDecodeError):
        return exc.http_status is None or not 400 <= exc.http_status < 500
    return False


def may_retry(exc: YottaError, mode: RetryMode, *, proven_unprocessed: bool = False) -> bool:
    """Whether a failed attempt may be sent again under ``mode`` (attempt budget aside).

    ``proven_unprocessed`` is set once reconciliation has shown that an ambiguous failure
    made nothing (no pod carries the create's token): the request is then as safe to send
    again as one that never left.
    """
    if mode == RETRY_NEVER:
        return False
    if proven_unprocessed:
        return True
    if mode == RETRY_UNSENT and not never_processed(exc):
        return False
    return is_transient(exc)
