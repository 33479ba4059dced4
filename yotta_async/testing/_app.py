"""The aiohttp.web application: auth, envelopes, routes, counters and fault injection."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from ..errors import ValidationError
from ..models import PodCreateRequest, PodStatus
from ._faults import FaultPlan
from ._state import PodStore, SimPod

__all__ = ["SUCCESS", "AppState", "build_app"]

SUCCESS = 10000
INVALID = 10001
SYSTEM_ERROR = 10002
WRONG_STATE = 12001
NOT_FOUND = 13000
_INT64_MAX = 2**63 - 1
_JSON = "application/json"
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_OK_NULL = b'{"code":10000,"message":"success","data":null}'
_CAMEL = re.compile(r"_([a-z])")
_AT = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_ENCODE = msgspec.json.encode

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class AppState:
    """What the handlers share: the store, the key, the fault plan and the counters."""

    store: PodStore
    api_key: str = field(repr=False)  # a dataclass repr would print it
    faults: FaultPlan
    request_counts: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_concurrent_requests: int = 0


STATE = web.AppKey("yotta_sim_state", AppState)


def envelope(code: int, message: str, http_status: int = 200) -> web.Response:
    """An envelope response with ``data: null``."""
    body = _ENCODE({"code": code, "message": message, "data": None})
    return web.Response(body=body, status=http_status, content_type=_JSON)


def _ok(data: bytes) -> web.Response:
    return web.Response(body=b'{"code":10000,"message":"success","data":' + data + b"}", content_type=_JSON)


def _route_key(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None or resource.canonical == "/{tail}":
        return "* unmatched"
    return f"{request.method} {resource.canonical}"


def _abort(request: web.Request) -> None:
    # SO_LINGER 0 makes close() send a TCP RST, which is what a reset really looks like.
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # a platform without SO_LINGER still aborts
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Dropped(web.HTTPException):
    """Raised after aborting the transport so aiohttp writes nothing more."""

    status_code = 500


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    route = _route_key(request)
    state.request_counts[route] += 1
    state.in_flight += 1
    state.max_concurrent_requests = max(state.max_concurrent_requests, state.in_flight)
    try:
        return await _serve(request, handler, state, route)
    finally:
        state.in_flight -= 1


async def _serve(request: web.Request, handler: Handler, state: AppState, route: str) -> web.StreamResponse:
    faults = state.faults
    # Looked up before ``before()`` fires: firing may exhaust a limited rule.
    rule = faults.rule_for(route)
    fault, delay = faults.before(route)
    if delay > 0:
        await asyncio.sleep(delay)  # real time on purpose: this exists for client timeouts
    if fault == "reset":
        _abort(request)
        raise _Dropped()
    if fault == "502":
        return web.Response(body=_HTML_502, status=502, content_type="text/html")
    if fault == "500":
        return envelope(SYSTEM_ERROR, "system error", 500)
    if fault == "429":
        seconds = rule.retry_after if rule is not None else 1.0
        limited = envelope(429, "too many requests", 429)
        limited.headers["Retry-After"] = f"{seconds:g}"
        return limited
    supplied = request.headers.get("X-Api-Key", "")
    if not hmac.compare_digest(supplied.encode(), state.api_key.encode()):
        return envelope(401, "unauthorized: missing or invalid X-Api-Key", 401)
    response = await handler(request)
    if response.status == 200 and response.get(_SUCCESS, False):
        lost = faults.after(route)
        if lost == "lost_reset":
            _abort(request)
            raise _Dropped()
        if lost == "lost_500":
            return envelope(SYSTEM_ERROR, "system error", 500)
    return response


_SUCCESS = web.ResponseKey("yotta_sim_success", bool)


def _success(response: web.Response) -> web.Response:
    # A response is also a mapping for per-response data: no ad-hoc attribute needed.
    response[_SUCCESS] = True
    return response


def _pod_id(request: web.Request) -> int | web.Response:
    text = request.match_info["id"]
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 20:
        return envelope(INVALID, f"invalid request parameters: id: expected an integer, got {text!r}")
    value = int(text)
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        return envelope(INVALID, f"invalid request parameters: id: {text} is out of int64 range")
    return value


def _find(request: web.Request) -> SimPod | web.Response:
    pod_id = _pod_id(request)
    if isinstance(pod_id, web.Response):
        return pod_id
    pod = request.app[STATE].store.get(pod_id)
    if pod is None:
        return envelope(NOT_FOUND, f"pod not found: {pod_id}")
    return pod


def _camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def _invalid_body(exc: msgspec.MsgspecError) -> str:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        where, _, rest = cause.field.partition("[")
        fieldname = _camel(where) + (f"[{_camel(rest)}" if rest else "")
        return f"{fieldname}: {cause.message}"
    text = str(exc)
    missing = _MISSING.search(text)
    if missing:
        return f"{missing.group(1)}: required field is missing"
    at = _AT.search(text)
    if at and at.group(1):
        return f"{at.group(1)}: {_AT.sub('', text).rstrip(' -')}"
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return f"body: malformed JSON ({text})"
    return f"body: {text}"


async def create_pod(request: web.Request) -> web.Response:
    """``POST /v2/pods``."""
    body = await request.read()
    try:
        req = msgspec.json.decode(body, type=PodCreateRequest)
    except msgspec.MsgspecError as exc:
        return envelope(INVALID, f"invalid request parameters: {_invalid_body(exc)}")
    store = request.app[STATE].store
    pod = store.create(req)
    return _success(_ok(store.encoded(pod)))


def _statuses(values: list[str]) -> set[PodStatus] | str:
    wanted: set[PodStatus] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                status = PodStatus(int(part)) if part.isdigit() else PodStatus(part)
            except ValueError:
                return f"statusList: unknown status {part!r}"
            if not status.is_known:
                return f"statusList: unknown status {part!r}"
            wanted.add(status)
    return wanted


async def list_pods(request: web.Request) -> web.Response:
    """``GET /v2/pods`` with ``regionList`` / ``statusList``, repeated or comma-joined."""
    query = request.query
    regions = {r.strip() for v in query.getall("regionList", []) for r in v.split(",") if r.strip()}
    statuses = _statuses(query.getall("statusList", []))
    if isinstance(statuses, str):
        return envelope(INVALID, f"invalid request parameters: {statuses}")
    store = request.app[STATE].store
    now = store.now()
    parts = []
    for pod in store.iter_pods():
        if regions and pod.region not in regions:
            continue
        if statuses and pod.phase(now)[2] not in statuses:
            continue
        parts.append(store.encoded(pod, now))
    return _success(_ok(b"[" + b",".join(parts) + b"]"))


async def get_pod(request: web.Request) -> web.Response:
    """``GET /v2/pods/{id}``."""
    pod = _find(request)
    if isinstance(pod, web.Response):
        return pod
    return _success(_ok(request.app[STATE].store.encoded(pod)))


def _action(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        pod = _find(request)
        if isinstance(pod, web.Response):
            return pod
        store = request.app[STATE].store
        refused = getattr(store, name)(pod)
        if refused is not None:
            return envelope(WRONG_STATE, f"resource status invalid: {refused}")
        return _success(web.Response(body=_OK_NULL, content_type=_JSON))

    handle.__name__ = handle.__qualname__ = f"{name}_pod"
    handle.__doc__ = f"The {name} action on one pod."
    return handle


async def _not_found(request: web.Request) -> web.Response:
    return envelope(INVALID, f"no such route: {request.method} {request.path}", 404)


def build_app(state: AppState) -> web.Application:
    """The application serving the six pod operations of the Pods API v2."""
    app = web.Application(middlewares=[_middleware])
    app[STATE] = state
    app.router.add_post("/v2/pods", create_pod)
    app.router.add_get("/v2/pods", list_pods)
    app.router.add_get("/v2/pods/{id}", get_pod)
    app.router.add_delete("/v2/pods/{id}", _action("delete"))
    app.router.add_post("/v2/pods/{id}/pause", _action("pause"))
    app.router.add_post("/v2/pods/{id}/resume", _action("resume"))
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app
