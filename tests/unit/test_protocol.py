"""The pure protocol functions: headers, envelopes, Retry-After and the choice of error."""

from __future__ import annotations

import email.utils

import msgspec
import pytest

from yotta_async import _protocol as proto
from yotta_async.errors import (
    APIError,
    AuthenticationError,
    CredentialNotFoundError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    PodNotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    VolumeNotFoundError,
)
from yotta_async.models import Pod, PodStatus

POD = proto.ReplyDecoder[Pod](Pod)
POD_LIST = proto.ReplyDecoder[list[Pod] | None](list[Pod] | None)
NOW = 1_700_000_000.0


def envelope(code: int, message: str | None = "msg", data: bytes = b"null") -> proto.Envelope:
    return proto.Envelope(code=code, message=message, data=msgspec.Raw(data))


def err(status: int, env: proto.Envelope | None, headers: dict[str, str] | None = None,
        body: bytes = b"") -> APIError | None:
    return proto.error_for(status, env, method="GET", path="/v2/pods/7", headers=headers or {}, body=body)


# -- headers -------------------------------------------------------------------------
def test_build_headers_carries_key_user_agent_and_accept() -> None:
    headers = proto.build_headers("sk-123", "yotta-async/9.9")
    assert headers == {
        "X-Api-Key": "sk-123",
        "User-Agent": "yotta-async/9.9",
        "Accept": "application/json",
    }


@pytest.mark.parametrize("name", ["X-Request-Id", "x-request-id", "X-REQUEST-ID", "Request-Id"])
def test_request_id_found_under_any_spelling(name: str) -> None:
    assert proto.request_id({name: "req-1"}) == "req-1"


def test_request_id_missing_or_empty_is_none() -> None:
    assert proto.request_id({}) is None
    assert proto.request_id({"X-Request-Id": ""}) is None
    assert proto.request_id({"Content-Type": "application/json"}) is None


# -- envelope ------------------------------------------------------------------------
def test_decode_envelope_keeps_data_raw() -> None:
    env = proto.decode_envelope(b'{"code": 10000, "message": "ok", "data": {"id": 1}}', 200)
    assert env.code == 10000
    assert env.message == "ok"
    assert msgspec.json.decode(bytes(env.data)) == {"id": 1}


def test_decode_envelope_defaults_for_missing_message_and_data() -> None:
    env = proto.decode_envelope(b'{"code": 10000}', 200)
    assert env.message is None
    assert bytes(env.data) == b"null"


def test_decode_envelope_ignores_unknown_fields() -> None:
    env = proto.decode_envelope(b'{"code": 12001, "message": "m", "traceId": "t", "data": null}', 200)
    assert env.code == 12001


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"<html><body>502 Bad Gateway</body></html>", "not a JSON result envelope"),
        (b'{"code": 100', "not a JSON result envelope"),
        (b"[]", "not a JSON result envelope"),
        (b"null", "not a JSON result envelope"),
        (b'"text"', "not a JSON result envelope"),
        (b'{"message": "no code", "data": null}', "not a JSON result envelope"),
        (b'{"code": "ok", "data": null}', "not a JSON result envelope"),
        (b'{"code": true}', "not a JSON result envelope"),
        (b'{"code": 10000, "message": 5}', "not a JSON result envelope"),
    ],
)
def test_decode_envelope_rejects_bad_bodies(body: bytes, needle: str) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        proto.decode_envelope(body, 502, "GET", "/v2/pods")
    exc = info.value
    assert needle in exc.message
    assert exc.http_status == 502
    assert exc.body_snippet == body[:200]
    assert exc.method == "GET" and exc.path == "/v2/pods"
    assert "HTTP 502" in str(exc)
    assert isinstance(exc.__cause__, msgspec.DecodeError)


def test_decode_envelope_snippet_is_first_200_bytes() -> None:
    body = b"<html>" + b"x" * 1000
    with pytest.raises(ResponseDecodeError) as info:
        proto.decode_envelope(body, 502)
    assert info.value.body_snippet == body[:200]
    assert len(info.value.body_snippet) == 200


# -- data ----------------------------------------------------------------------------
def test_decode_data_returns_typed_value() -> None:
    env = envelope(10000, data=b'{"id": "331864222263676928", "status": "RUNNING"}')
    pod = proto.decode_data(POD, env, 200)
    assert pod.id == 331864222263676928
    assert pod.status is PodStatus.RUNNING


@pytest.mark.parametrize(
    "data",
    [b"null", b"[]", b'"pod"', b"42", b'{"status": "RUNNING"}', b'{"id": "abc", "status": "RUNNING"}',
     b'{"id": 1, "status": null}', b'{"id": 1, "status": "RUNNING", "expose": {"port": 1}}'],
)
def test_decode_data_wrong_shape_raises_decode_error(data: bytes) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        proto.decode_data(POD, envelope(10000, data=data), 200, "GET", "/v2/pods/1")
    exc = info.value
    assert "wrong shape" in exc.message
    assert exc.http_status == 200
    assert exc.body_snippet == data[:200]
    assert exc.path == "/v2/pods/1"


def test_decode_data_null_list_is_allowed_by_an_optional_decoder() -> None:
    assert proto.decode_data(POD_LIST, envelope(10000), 200) is None
    with pytest.raises(ResponseDecodeError):
        proto.decode_data(POD_LIST, envelope(10000, data=b'{"id": 1}'), 200)


# -- Retry-After ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5), ("120", 120.0)],
)
def test_parse_retry_after_seconds(value: str, expected: float) -> None:
    assert proto.parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_http_date_in_the_future() -> None:
    header = email.utils.formatdate(NOW + 42, usegmt=True)
    assert proto.parse_retry_after(header, now=NOW) == pytest.approx(42.0)


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    header = email.utils.formatdate(NOW - 3600, usegmt=True)
    assert proto.parse_retry_after(header, now=NOW) == 0.0


def test_parse_retry_after_uses_the_wall_clock_without_now() -> None:
    # A date far in the future is far in the future whatever the real clock says.
    value = proto.parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT")
    assert value is not None and value > 10**9


@pytest.mark.parametrize(
    "value",
    [None, "", "soon", "-5", "-0.5", "nan", "inf", "-inf", "1e400", "1_000", "0x10", "3 seconds",
     "Wed, 99 Foo 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 -0000"],
)
def test_parse_retry_after_garbage_is_none(value: str | None) -> None:
    assert proto.parse_retry_after(value, now=NOW) is None


# -- error_for -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (10001, InvalidRequestError),
        (10002, ServerError),
        (10004, PermissionDeniedError),
        (11002, PermissionDeniedError),
        (13000, PodNotFoundError),
        (12000, PodNotFoundError),
        (10007, PodNotFoundError),
        (11000, PodNotFoundError),
        (12001, InvalidStateError),
        (11001, InvalidStateError),
    ],
)
@pytest.mark.parametrize("status", [200, 400, 404, 500])
def test_error_for_maps_every_documented_code(code: int, cls: type[APIError], status: int) -> None:
    exc = err(status, envelope(code, "the server's words"), {"X-Request-Id": "rid-9"})
    assert type(exc) is cls
    assert exc.code == code
    assert exc.message == "the server's words"
    assert exc.http_status == status
    assert exc.method == "GET"
    assert exc.path == "/v2/pods/7"
    assert exc.request_id == "rid-9"
    text = str(exc)
    assert f"code {code}" in text and "rid-9" in text and "GET /v2/pods/7" in text


def test_error_for_success_is_none() -> None:
    assert err(200, envelope(10000)) is None
    assert err(201, envelope(10000)) is None


def test_error_for_success_code_on_error_status_is_still_an_error() -> None:
    exc = err(500, envelope(10000, None))
    assert type(exc) is ServerError
    assert exc.http_status == 500


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, PodNotFoundError),
        (400, InvalidRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, APIError),
    ],
)
def test_error_for_http_status_without_envelope(status: int, cls: type[APIError]) -> None:
    exc = err(status, None, body=b"<html>nope</html>")
    assert type(exc) is cls
    assert exc.code is None
    assert exc.http_status == status
    hint = f"; {proto.KEY_HINT}" if status == 401 else ""
    assert exc.message == f"HTTP {status}: <html>nope</html>{hint}"
    assert exc.body_snippet == b"<html>nope</html>"


def test_error_for_http_status_without_envelope_or_body() -> None:
    exc = err(503, None)
    assert type(exc) is ServerError
    assert exc.message == "HTTP 503"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthenticationError), (403, PermissionDeniedError), (404, PodNotFoundError),
     (400, InvalidRequestError), (500, ServerError), (503, ServerError)],
)
def test_error_for_http_status_with_unknown_code_envelope(status: int, cls: type[APIError]) -> None:
    exc = err(status, envelope(99999, "odd"))
    assert type(exc) is cls
    assert exc.code == 99999
    assert exc.message == ("odd; " + proto.KEY_HINT if status == 401 else "odd")


def test_error_for_401_wins_over_the_envelope_code() -> None:
    exc = err(401, envelope(10004, "bad key"))
    assert type(exc) is AuthenticationError
    assert exc.code == 10004


def test_error_for_429_carries_retry_after() -> None:
    exc = err(429, envelope(10002, "slow down"), {"Retry-After": "7"})
    assert type(exc) is RateLimitError
    assert exc.retry_after == 7.0
    assert exc.code == 10002
    assert err(429, None).retry_after is None  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [99999, 10003, 20000, 0, -1])
def test_error_for_unknown_code_on_200_is_plain_api_error(code: int) -> None:
    exc = err(200, envelope(code, "something new"))
    assert type(exc) is APIError
    assert exc.code == code
    assert exc.message == "something new"
    assert exc.http_status == 200


def test_error_for_empty_message_falls_back_to_status_text() -> None:
    exc = err(200, envelope(99999, ""))
    assert exc is not None
    assert exc.message == "HTTP 200"


def test_error_for_never_echoes_request_headers() -> None:
    exc = err(401, None, {"X-Api-Key": "sk-secret", "X-Request-Id": "r"})
    assert "sk-secret" not in str(exc) and "sk-secret" not in repr(exc)


# -- retryability --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, None, True),
        (429, 10001, True),
        (500, None, True),
        (502, None, True),
        (503, None, True),
        (504, None, True),
        (200, 10002, True),
        (500, 10002, True),
        (501, None, False),
        (505, None, False),
        (400, None, False),
        (401, None, False),
        (404, None, False),
        (200, 10001, False),
        (200, 13000, False),
        (200, 12001, False),
        (200, 99999, False),
        # The envelope names a definite answer: asking again cannot change it.
        (500, 13000, False),
        (503, 12001, False),
        (500, 10001, False),
        # An unknown code on a retryable status: the status decides.
        (503, 99999, True),
    ],
)
def test_is_retryable_status(status: int, code: int | None, expected: bool) -> None:
    assert proto.is_retryable_status(status, code) is expected


@pytest.mark.parametrize(
    ("path", "cls"),
    [
        ("/v2/pods/7", PodNotFoundError),
        ("/v2/pods", NotFoundError),  # a create: what is missing is something it refers to
        ("/v2/pods/", NotFoundError),
        ("/v2/volumes/7", VolumeNotFoundError),
        ("/v2/container-registry-auths/7", CredentialNotFoundError),
        ("/v2/vms/types", NotFoundError),
        ("/v2/podsx/7", NotFoundError),  # a prefix of the path, not the noun
    ],
)
@pytest.mark.parametrize(("status", "code"), [(404, None), (404, 40400), (200, 10007), (200, 13000)])
def test_a_not_found_error_names_the_noun_of_the_path(
    path: str, cls: type[APIError], status: int, code: int | None
) -> None:
    exc = proto.error_for(
        status, envelope(code, "gone") if code is not None else None, method="GET", path=path, headers={}
    )
    assert type(exc) is cls and isinstance(exc, NotFoundError)
    assert exc.path == path and exc.http_status == status
