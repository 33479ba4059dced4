"""Response fuzzing: whatever the server sends back, callers see a result or a YottaError."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._fakes import record_maps
from tests.hardening._util import BIG_ID, VALID_FIELDS, serve
from yotta_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    NotFoundError,
    Pod,
    PodNotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    YottaClient,
    YottaError,
)

KEY = "sk-response-fuzz-SECRET-0042"
# A message longer than this is not "useful": a hostile or broken server must not be able
# to push megabytes into an exception string (and from there into logs).
MAX_MESSAGE = 4096


@dataclass
class Reply:
    """What the fuzz server answers with next."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "normal"  # normal | drip | short (Content-Length larger than the body, then close)
    announced: int | None = None  # a short reply's Content-Length (default: the body's + 1000)


class FuzzServer:
    """A loopback server that serves ``reply`` to every request."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.requests = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        reply = self.reply
        if reply.mode == "normal":
            return web.Response(body=reply.body, status=reply.status, headers=reply.headers)
        response = web.StreamResponse(status=reply.status, headers=reply.headers)
        if reply.mode == "short":
            response.content_length = reply.announced or len(reply.body) + 1000
        await response.prepare(request)
        if reply.mode == "drip":
            for byte in reply.body:
                await response.write(bytes([byte]))
                await asyncio.sleep(0.05)
            await asyncio.sleep(3600)  # never finishes: the client's timeout must fire
        await response.write(reply.body)
        assert request.transport is not None
        request.transport.close()
        return response


Call = Callable[[YottaClient], Awaitable[Any]]
ENDPOINTS: dict[str, tuple[str, str, Call]] = {
    "get": ("GET", f"/v2/pods/{BIG_ID}", lambda c: c.pods.get(BIG_ID)),
    "list": ("GET", "/v2/pods", lambda c: c.pods.list()),
    "create": ("POST", "/v2/pods", lambda c: c.pods.create(**VALID_FIELDS)),
    "pause": ("POST", f"/v2/pods/{BIG_ID}/pause", lambda c: c.pods.pause(BIG_ID)),
    "resume": ("POST", f"/v2/pods/{BIG_ID}/resume", lambda c: c.pods.resume(BIG_ID)),
    "delete": ("DELETE", f"/v2/pods/{BIG_ID}", lambda c: c.pods.delete(BIG_ID)),
}
RESULT_TYPES: dict[str, Callable[[Any], bool]] = {
    "get": lambda r: isinstance(r, Pod),
    "list": lambda r: isinstance(r, list) and all(isinstance(p, Pod) for p in r),
    "create": lambda r: isinstance(r, Pod),
    "pause": lambda r: r is None,
    "resume": lambda r: r is None,
    "delete": lambda r: r is None,
}


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


# Replies that do arrive get a timeout no loaded machine comes near; only a reply that never
# completes (the drip) is cut off by a short one, so that its test stays fast.
ANSWERED_TIMEOUT = 10.0
DRIP_TIMEOUT = 0.5


@dataclass
class Rig:
    server: FuzzServer
    client: YottaClient


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    server = FuzzServer()
    async with (
        serve(server.handle) as url,
        YottaClient(KEY, url, max_retries=0, timeout=ANSWERED_TIMEOUT, sleep=_no_sleep) as client,
    ):
        yield Rig(server, client)


async def outcome(rig: Rig, endpoint: str, reply: Reply) -> YottaError | None:
    """Serve ``reply`` to one call of ``endpoint``: None on success, else the YottaError.

    Anything that is not a YottaError escapes and fails the test.
    """
    rig.server.reply = reply
    call = ENDPOINTS[endpoint][2]
    try:
        if reply.mode == "drip":
            async with YottaClient(KEY, rig.client.base_url, max_retries=0, timeout=DRIP_TIMEOUT,
                                   sleep=_no_sleep) as dripping:
                result = await call(dripping)
        else:
            result = await call(rig.client)
    except YottaError as exc:
        check_message(exc, endpoint)
        return exc
    assert RESULT_TYPES[endpoint](result), result
    return None


def check_message(exc: YottaError, endpoint: str) -> None:
    """Useful: names what failed, is bounded in size, and never carries the key."""
    text, rep = str(exc), repr(exc)
    assert text.strip()
    assert len(text) <= MAX_MESSAGE, f"{type(exc).__name__} message is {len(text)} characters"
    assert KEY not in text and KEY not in rep
    if isinstance(exc, (APIError, ResponseDecodeError, APIConnectionError)):
        method, path = exc.method, exc.path
        if endpoint != "create" or path == "/v2/pods":  # a create may fail in its reconciliation list
            assert (method, path) in {(m, p) for m, p, _ in ENDPOINTS.values()}
            assert f"{method} {path}" in text


ENVELOPE_OK_NULL = b'{"code":10000,"message":"success","data":null}'
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>nginx</body></html>"
HTML = {"Content-Type": "text/html"}
JSON = {"Content-Type": "application/json"}


def actions_ok(pod_endpoints: type[YottaError], list_: type[YottaError] | None) -> dict[str, Any]:
    """Expectations for a success envelope whose data fits no pod: actions ignore data."""
    return {
        "get": pod_endpoints,
        "create": pod_endpoints,
        "list": list_,
        "pause": None,
        "resume": None,
        "delete": None,
    }


RDE = ResponseDecodeError
# name -> (reply, the error class every endpoint must raise, or a dict by endpoint; None = success)
ADVERSARIAL: dict[str, tuple[Reply, Any]] = {
    "truncated-json": (Reply(b'{"code":10000,"message":"ok","data":{"id":1,"stat', 200, JSON), RDE),
    "html-502": (Reply(HTML_502, 502, HTML), ServerError),
    "html-200": (Reply(HTML_502, 200, HTML), RDE),
    "html-401": (Reply(HTML_502, 401, HTML), AuthenticationError),
    "html-429": (Reply(HTML_502, 429, {**HTML, "Retry-After": "5"}), RateLimitError),
    "html-404": (Reply(HTML_502, 404, HTML), RDE),
    "empty-200": (Reply(b"", 200, JSON), RDE),
    "empty-500": (Reply(b"", 500), ServerError),
    "empty-204": (Reply(b"", 204), RDE),
    "whitespace": (Reply(b" \r\n\t ", 200, JSON), RDE),
    # the envelope is lenient, like the data: a code sent as a JSON string still counts
    "code-as-string": (
        Reply(b'{"code":"10000","message":"ok","data":null}', 200, JSON),
        actions_ok(RDE, None),
    ),
    "code-as-word": (Reply(b'{"code":"ok","message":"ok","data":null}', 200, JSON), RDE),
    "message-as-object": (Reply(b'{"code":10000,"message":{"a":1},"data":null}', 200, JSON), RDE),
    "no-code": (Reply(b'{"message":"ok","data":null}', 200, JSON), RDE),
    "top-level-list": (Reply(b"[1,2,3]", 200, JSON), RDE),
    "top-level-string": (Reply(b'"ok"', 200, JSON), RDE),
    "missing-data": (Reply(b'{"code":10000,"message":"ok"}', 200, JSON), actions_ok(RDE, None)),
    "data-null": (Reply(ENVELOPE_OK_NULL, 200, JSON), actions_ok(RDE, None)),
    "data-wrong-type": (
        Reply(b'{"code":10000,"message":"ok","data":"pod"}', 200, JSON),
        actions_ok(RDE, RDE),
    ),
    "pod-without-id": (Reply(b'{"code":10000,"data":{"status":"RUNNING"}}', 200, JSON), actions_ok(RDE, RDE)),
    "pods-without-id": (
        Reply(b'{"code":10000,"data":[{"status":"RUNNING"}]}', 200, JSON),
        actions_ok(RDE, RDE),
    ),
    "id-as-float": (
        Reply(b'{"code":10000,"data":{"id":3.3e17,"status":"RUNNING"}}', 200, JSON),
        actions_ok(RDE, RDE),
    ),
    "status-as-bool": (
        Reply(b'{"code":10000,"data":{"id":1,"status":true}}', 200, JSON),
        actions_ok(RDE, RDE),
    ),
    "unknown-code": (Reply(b'{"code":77777,"message":"the moon is full","data":null}', 200, JSON), APIError),
    "unknown-code-http-400": (Reply(b'{"code":77777,"message":"nope","data":null}', 400, JSON), APIError),
    "not-found-code": (
        Reply(b'{"code":13000,"message":"pod not found","data":null}', 200, JSON),
        # A path naming a pod gives PodNotFoundError; the collection names none (on a create,
        # what is missing is something the request refers to): the NotFoundError above it.
        {name: NotFoundError if name in ("list", "create") else PodNotFoundError for name in ENDPOINTS},
    ),
    "invalid-utf8": (Reply(b'{"code":10000,"message":"\xff\xfe","data":null}', 200, JSON), RDE),
    "deep-nesting": (Reply(b'{"code":10000,"data":' + b"[" * 200_000, 200, JSON), RDE),
    "deep-nesting-data": (
        Reply(b'{"code":10000,"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}", 200, JSON),
        RDE,
    ),
    "nan-literal": (Reply(b'{"code":NaN,"data":null}', 200, JSON), RDE),
    "huge-html": (Reply(b"<html>" + b"x" * 8_000_000 + b"</html>", 502, HTML), ServerError),
    "huge-garbage-200": (Reply(b"\x00\x01garbage" * 1_000_000, 200), RDE),
    "huge-error-message": (
        Reply(json.dumps({"code": 10001, "message": "m" * 3_000_000, "data": None}).encode(), 200, JSON),
        APIError,
    ),
    "json-as-text-plain": (
        Reply(ENVELOPE_OK_NULL, 200, {"Content-Type": "text/plain"}),
        actions_ok(RDE, None),
    ),
    "json-as-octet-stream": (
        Reply(
            b'{"code":10001,"message":"bad","data":null}', 200, {"Content-Type": "application/octet-stream"}
        ),
        APIError,
    ),
    "lying-gzip": (Reply(ENVELOPE_OK_NULL, 200, {**JSON, "Content-Encoding": "gzip"}), APIConnectionError),
    "redirect": (Reply(b"", 302, {"Location": "http://127.0.0.1:9/elsewhere"}), RDE),
    "odd-2xx-status": (Reply(ENVELOPE_OK_NULL, 299, JSON), actions_ok(RDE, None)),
    "closed-mid-body": (
        Reply(b'{"code":10000,"message":"ok","da', 200, JSON, mode="short"),
        APIConnectionError,
    ),
    "slow-drip": (Reply(ENVELOPE_OK_NULL, 200, JSON, mode="drip"), APITimeoutError),
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("case", list(ADVERSARIAL))
async def test_adversarial_reply(rig: Rig, endpoint: str, case: str) -> None:
    reply, expected = ADVERSARIAL[case]
    if isinstance(expected, dict):
        expected = expected[endpoint]
    exc = await outcome(rig, endpoint, reply)
    if expected is None:
        assert exc is None, exc
    else:
        assert isinstance(exc, expected), f"{case}/{endpoint}: got {exc!r}"


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("sent", [0, 33, 3 << 19], ids=["no-body", "a-few-bytes", "1.5MiB"])
async def test_a_big_body_closed_mid_way_is_a_connection_error_and_frees_its_map(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, endpoint: str, sent: int
) -> None:
    """Over MAPPED_BODY_BYTES announced, the body is read into a memory map; cut short, that
    read must still end in a YottaError (never a raw aiohttp one), and the map be given back."""
    from yotta_async import _session

    made = record_maps(monkeypatch)
    announced = 3 * _session.MAPPED_BODY_BYTES
    body = (b'{"code":10000,"message":"ok","data":[' + b" " * sent)[:sent]
    exc = await outcome(rig, endpoint, Reply(body, 200, JSON, mode="short", announced=announced))
    assert isinstance(exc, APIConnectionError), f"{endpoint}: got {exc!r}"
    # The mapped path was taken (by a create twice: its reconciliation lists pods, and is cut
    # short as well), and every map was given back.
    assert made and all(mapped.length == announced and mapped.closed for mapped in made)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"code":10000,"message":"ok","data":"not a pod"}', ResponseDecodeError),
        (200, b'{"code":10001,"message":"bad request","data":null}', APIError),
        (500, b"<html>" + b"x" * 64 + b"</html>", APIError),
    ],
    ids=["wrong-shape", "error-envelope", "html-5xx"],
)
async def test_a_big_whole_reply_that_is_refused_frees_its_map(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, status: int, body: bytes, expected: type[Exception]
) -> None:
    """A big reply read in full, then refused by parse_reply, gives its map back at once
    (the error's traceback would otherwise hold it as long as the error is kept)."""
    from yotta_async import _session

    made = record_maps(monkeypatch)
    padded = body + b" " * (_session.MAPPED_BODY_BYTES + 1 - len(body))  # JSON allows the spaces
    exc = await outcome(rig, "get", Reply(padded, status, JSON))
    assert isinstance(exc, expected), repr(exc)
    assert made and all(mapped.closed for mapped in made)


async def test_decode_errors_keep_status_and_a_bounded_snippet(rig: Rig) -> None:
    exc = await outcome(rig, "get", ADVERSARIAL["huge-garbage-200"][0])
    assert isinstance(exc, ResponseDecodeError)
    assert exc.http_status == 200
    assert exc.body_snippet == (b"\x00\x01garbage" * 100)[:200]


async def test_unknown_code_is_surfaced_unchanged(rig: Rig) -> None:
    exc = await outcome(rig, "pause", ADVERSARIAL["unknown-code"][0])
    assert type(exc) is APIError
    assert exc.code == 77777 and exc.message == "the moon is full" and exc.http_status == 200
    assert "77777" in str(exc) and "the moon is full" in str(exc)


async def test_retries_end_in_a_yotta_error_not_a_hang(rig: Rig) -> None:
    """With retries on, absurd Retry-After values and endless 5xx still end in a typed error."""
    client = YottaClient(KEY, rig.client.base_url, max_retries=3, timeout=ANSWERED_TIMEOUT,
                         sleep=_no_sleep)
    async with client:
        for retry_after in ("-1", "nan", "inf", "99999999999", "Wed, 99 Foo 2015", "1e400"):
            rig.server.requests = 0
            rig.server.reply = Reply(
                b'{"code":429,"message":"slow down"}', 429, {**JSON, "Retry-After": retry_after}
            )
            with pytest.raises(RateLimitError):
                await client.pods.get(BIG_ID)
            assert 1 <= rig.server.requests <= 4
        rig.server.requests = 0
        rig.server.reply = Reply(HTML_502, 503, HTML)
        with pytest.raises(ServerError) as info:
            await client.pods.list()
        assert info.value.http_status == 503
        assert rig.server.requests == 4  # a proxy's 503 page is transient: retried, then reported


# --- hypothesis: random envelopes and random bytes ------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)


def _nest(kids: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids, max_size=4))


json_values = st.recursive(json_scalars, _nest, max_leaves=12)
pod_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(min_value=-(2**65), max_value=2**65), st.text(max_size=22), json_values),
        "status": st.one_of(
            st.sampled_from(["RUNNING", "STOPPED", "HIBERNATING", "", "7", "3"]), json_values
        ),
        "name": json_values,
        "gpuCount": json_values,
        "expose": st.one_of(st.lists(st.fixed_dictionaries({"port": json_values}), max_size=2), json_values),
        "environmentVars": json_values,
        "createdAt": st.one_of(st.integers(min_value=-(2**64), max_value=2**64), json_values),
    },
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "code": st.one_of(st.sampled_from([10000, 10001, 10002, 10004, 12001, 13000, 401, 429]), json_values),
        "message": json_values,
        "data": st.one_of(pod_like, st.lists(pod_like, max_size=3), json_values),
    },
).map(lambda d: json.dumps(d).encode())
bodies = st.one_of(
    envelopes,
    envelopes.flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n])),  # truncated
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
)
replies = st.builds(
    Reply,
    body=bodies,
    status=st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504, 520]),
    headers=st.fixed_dictionaries(
        {},
        optional={
            "Content-Type": st.sampled_from(
                ["application/json", "text/html", "text/plain", "application/xml", "x/y"]
            ),
            "Retry-After": st.sampled_from(["0", "1", "-3", "abc", "Tue, 01 Jan 2030 00:00:00 GMT"]),
            "X-Request-Id": st.text(alphabet="abcdef0123456789-", max_size=12),
        },
    ),
)


@given(reply=replies, endpoint=st.sampled_from(list(ENDPOINTS)))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_random_replies_give_results_or_yotta_errors(rig: Rig, reply: Reply, endpoint: str) -> None:
    exc = await outcome(rig, endpoint, reply)
    if reply.status >= 500 and exc is not None and not isinstance(exc, APIConnectionError):
        assert isinstance(exc, APIError)  # a ServerError unless an envelope names the error


@given(data=st.one_of(pod_like, json_values))
@settings(max_examples=300, deadline=None)
def test_pod_decoder_raises_only_decode_errors(data: Any) -> None:
    """The same property without HTTP, so hypothesis can search the decoder harder."""
    from yotta_async import _protocol as proto
    from yotta_async.resources.pods import POD_DECODER

    body = json.dumps({"code": 10000, "message": "ok", "data": data}).encode()
    envelope = proto.decode_envelope(body, 200, "GET", "/v2/pods/1")
    try:
        pod = proto.decode_data(POD_DECODER, envelope, 200, "GET", "/v2/pods/1")
    except ResponseDecodeError as exc:
        assert "data has the wrong shape" in str(exc)
    else:
        assert isinstance(pod.id, int) and -(2**63) <= pod.id < 2**63
        msgspec.json.encode(pod)  # a decoded pod can always be encoded again


# --- bodies larger than the session's limit, however they arrive ----------------------------

LIMIT = 64 * 1024
PADDED_OK = b'{"code":10000,"message":"ok","data":null,"pad":"' + b"0" * (4 * LIMIT) + b'"}'


async def _chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers=JSON)
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(PADDED_OK), 8192):
        await response.write(PADDED_OK[start : start + 8192])
    await response.write_eof()
    return response


async def _gzip_bomb(request: web.Request) -> web.Response:
    # ~1 KiB on the wire, 256 KiB once aiohttp has inflated it
    return web.Response(body=gzip.compress(PADDED_OK), headers={**JSON, "Content-Encoding": "gzip"})


async def _declared(request: web.Request) -> web.Response:
    return web.Response(body=PADDED_OK, headers=JSON)


async def _small(request: web.Request) -> web.Response:
    return web.Response(body=PADDED_OK[: LIMIT // 2 - 2] + b'"}', headers=JSON)


@pytest.mark.parametrize(
    ("handler", "refused"), [(_chunked, True), (_gzip_bomb, True), (_declared, True), (_small, False)]
)
async def test_bodies_over_the_limit_are_refused_however_they_arrive(
    monkeypatch: pytest.MonkeyPatch,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    refused: bool,
) -> None:
    from yotta_async import _session

    monkeypatch.setattr(_session, "MAX_RESPONSE_BYTES", LIMIT)
    async with serve(handler) as url, YottaClient(KEY, url, max_retries=0) as client:
        if not refused:
            assert await client.pods.list() == []  # a body under the limit is read as usual
            return
        with pytest.raises(ResponseDecodeError) as info:
            await client.pods.list()
    assert "over the limit" in str(info.value) and len(str(info.value)) <= MAX_MESSAGE
