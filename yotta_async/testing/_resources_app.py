"""The simulator's routes for the resources around a pod launch: GPU types, credentials, volumes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from ._app import mark_success
from ._resources import CREDENTIAL_TYPES, STORAGE_TYPES, VENDOR_TYPES, ResourceStore, SimCredential, SimVolume
from ._state import PodStore
from ._variants import Variants

__all__ = ["MAX_PAGE_SIZE", "RESOURCES", "ResourceState", "add_routes"]

_JSON = "application/json"
_ENCODE = msgspec.json.encode
_INT64_MAX = 2**63 - 1
MAX_PAGE_SIZE = 100  # the real maximum is not documented
MAX_SIZE_GB = 10240
INVALID = 10001
WRONG_STATE = 12001
IN_USE = 25002
CONFLICT = 40900
NOT_FOUND = 40400


@dataclass
class ResourceState:
    """What the resource handlers share: the pod store (with its GPU catalogue), the
    credential and volume store, and the variants in force."""

    store: PodStore
    variants: Variants
    resources: ResourceStore


RESOURCES = web.AppKey("yotta_sim_resources", ResourceState)


def _reply(code: int, message: str, data: Any = None, http_status: int = 200) -> web.Response:
    body = _ENCODE({"code": code, "message": message, "data": data})
    return web.Response(body=body, status=http_status, content_type=_JSON)


def _ok(data: object) -> web.Response:
    return mark_success(_reply(10000, "success", data))  # lets "reply lost" faults fire


def _invalid(message: str) -> web.Response:
    return _reply(INVALID, f"invalid request parameters: {message}")


def _state(request: web.Request) -> ResourceState:
    return request.app[RESOURCES]


# -- GPU types ---------------------------------------------------------------------------
async def list_vm_types(request: web.Request) -> web.Response:
    """``GET /v2/vms/types``: every offered GPU type, ``available`` from the remaining capacity."""
    state = _state(request)
    listing = state.store.catalogue.listing(state.store.holds_gpus)
    if state.variants.regions_as_strings:
        for entry in listing:
            entry["regions"] = [r["region"] for r in entry["regions"]]
    return _ok(listing)


# -- helpers -----------------------------------------------------------------------------
def _path_id(request: web.Request) -> int | web.Response:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 19) or not 0 < int(text) <= _INT64_MAX:
        return _invalid(f"id: expected a positive integer, got {text[:40]!r}")
    return int(text)


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        value = msgspec.json.decode(await request.read())
    except (msgspec.DecodeError, ValueError, RecursionError):
        return _invalid("body: malformed JSON")
    if not isinstance(value, dict):
        return _invalid("body: expected a JSON object")
    return value


def _text(
    body: dict[str, Any], key: str, *, required: bool, secret: bool = False
) -> str | web.Response | None:
    value = body.get(key)
    if value is None:
        return _invalid(f"{key}: must not be empty") if required else None
    if not isinstance(value, str) or not value.strip():
        # A secret is never echoed, not even its type's repr of it.
        return _invalid(f"{key}: must be a non-empty string" if secret else f"{key}: must not be empty")
    return value


def _refuse(state: ResourceState, what: str, *, in_use: bool, data: Any = None) -> web.Response:
    """A delete/resize refusal in the form the variants ask for."""
    if state.variants.in_use == "409":
        return _reply(CONFLICT, what, None, 409)
    if in_use:
        return _reply(IN_USE, what, data)
    return _reply(WRONG_STATE, f"resource status invalid: {what}")


def _pod_refs(pods: list[Any]) -> list[dict[str, Any]]:
    # The element shape of podList is not documented: ids as strings, as other 18-digit ids are.
    return [{"id": str(p.id), "name": p.base.get("name")} for p in pods]


# -- credentials -------------------------------------------------------------------------
def _render_credential(state: ResourceState, cred: SimCredential) -> dict[str, Any]:
    v = state.variants
    return state.resources.render_credential(cred, string_ids=v.string_ids, created_at=v.created_at)


def _find_credential(request: web.Request) -> SimCredential | web.Response:
    cid = _path_id(request)
    if isinstance(cid, web.Response):
        return cid
    cred = _state(request).resources.credentials.get(cid)
    if cred is None:
        return _reply(NOT_FOUND, "Not Found", None, 404)
    return cred


async def list_credentials(request: web.Request) -> web.Response:
    """``GET /v2/container-registry-auths``."""
    state = _state(request)
    return _ok([_render_credential(state, c) for c in state.resources.credentials.values()])


async def get_credential(request: web.Request) -> web.Response:
    """``GET /v2/container-registry-auths/{id}``: one object."""
    cred = _find_credential(request)
    if isinstance(cred, web.Response):
        return cred
    return _ok(_render_credential(_state(request), cred))


async def create_credential(request: web.Request) -> web.Response:
    """``POST /v2/container-registry-auths``: name, type, username, password (all required)."""
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    fields: dict[str, str] = {}
    for key in ("name", "type", "username", "password"):
        value = _text(body, key, required=True, secret=key == "password")
        if isinstance(value, web.Response):
            return value
        assert value is not None
        fields[key] = value
    if fields["type"] not in CREDENTIAL_TYPES:
        return _invalid(f"type: must be one of {', '.join(CREDENTIAL_TYPES)}")
    state = _state(request)
    cred = state.resources.add_credential(**fields)
    return _ok(_render_credential(state, cred))


async def update_credential(request: web.Request) -> web.Response:
    """``PATCH /v2/container-registry-auths/{id}``: any of name, username, password."""
    cred = _find_credential(request)
    if isinstance(cred, web.Response):
        return cred
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    changes: dict[str, str] = {}
    for key in ("name", "username", "password"):
        value = _text(body, key, required=False, secret=key == "password")
        if isinstance(value, web.Response):
            return value
        if value is not None:
            changes[key] = value
    if "type" in body:
        return _invalid("type: cannot be changed")
    if not changes:  # what the real API does with {} is not documented
        return _invalid("body: give at least one of name, username, password")
    state = _state(request)
    cred.name = changes.get("name", cred.name)
    cred.username = changes.get("username", cred.username)
    if "password" in changes:
        state.resources.set_password(cred, changes["password"])
    return _ok(_render_credential(state, cred))


async def delete_credential(request: web.Request) -> web.Response:
    """``DELETE /v2/container-registry-auths/{id}``: refused while a live pod uses it."""
    cred = _find_credential(request)
    if isinstance(cred, web.Response):
        return cred
    state = _state(request)
    users = state.resources.credential_users(cred.id)
    if users:
        what = "Credential is in use and cannot be deleted."
        return _refuse(state, what, in_use=True, data={"podList": _pod_refs(users), "elasticList": []})
    del state.resources.credentials[cred.id]
    return _ok(True)


# -- volumes -----------------------------------------------------------------------------
def _render_volume(state: ResourceState, volume: SimVolume) -> dict[str, Any]:
    v = state.variants
    return state.resources.render_volume(volume, string_ids=v.string_ids, upper=v.status_case == "upper")


def _find_volume(request: web.Request) -> SimVolume | web.Response:
    vid = _path_id(request)
    if isinstance(vid, web.Response):
        return vid
    volume = _state(request).resources.volume(vid)
    if volume is None:
        return _reply(NOT_FOUND, "Not Found", None, 404)
    return volume


def _size(value: object) -> int | web.Response:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SIZE_GB:
        return _invalid(f"sizeInGb: must be an integer between 1 and {MAX_SIZE_GB}")
    return value


async def create_volume(request: web.Request) -> web.Response:
    """``POST /v2/volumes``, with the per-type required fields of the docs."""
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    name = _text(body, "name", required=True)
    if isinstance(name, web.Response):
        return name
    kind = body.get("storageType")
    if kind not in STORAGE_TYPES:
        return _invalid(f"storageType: must be one of {', '.join(STORAGE_TYPES)}")
    region = _text(body, "region", required=kind in ("CEPH", "VENDOR"))
    if isinstance(region, web.Response):
        return region
    size: int | None = None
    if kind in ("CEPH", "VENDOR") or body.get("sizeInGb") is not None:
        checked = _size(body.get("sizeInGb"))
        if isinstance(checked, web.Response):
            return checked
        size = checked
    vendor = body.get("vendorVolumeType")
    if kind == "VENDOR" and vendor not in VENDOR_TYPES:
        return _invalid(f"vendorVolumeType: must be one of {', '.join(VENDOR_TYPES)}")
    state = _state(request)
    assert name is not None
    volume = state.resources.add_volume(name, kind, region, size, vendor if kind == "VENDOR" else None)
    return _ok(_render_volume(state, volume))


def _positive(query: Any, key: str, default: int) -> int | web.Response:
    text = query.get(key)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= _INT64_MAX:
        return _invalid(f"{key}: must be a positive integer")
    return int(text)


async def list_volumes(request: web.Request) -> web.Response:
    """``GET /v2/volumes?storageType=&page=&size=&region=``: one page, 1-based."""
    query = request.query
    kind = query.get("storageType")
    if kind is None:
        return _invalid("storageType: required")
    if kind not in STORAGE_TYPES:
        return _invalid(f"storageType: must be one of {', '.join(STORAGE_TYPES)}")
    page = _positive(query, "page", 1)
    size = _positive(query, "size", 10)
    if isinstance(page, web.Response):
        return page
    if isinstance(size, web.Response):
        return size
    size = min(size, MAX_PAGE_SIZE)
    region = query.get("region")
    state = _state(request)
    matching = [
        v for v in state.resources.iter_volumes()
        if v.storage_type == kind and (region is None or v.region == region)
    ]
    start = (page - 1) * size
    items = [_render_volume(state, v) for v in matching[start : start + size]]
    pages = math.ceil(len(matching) / size)
    return _ok({"items": items, "page": page, "size": size, "total": len(matching), "pages": pages})


async def get_volume(request: web.Request) -> web.Response:
    """``GET /v2/volumes/{id}``."""
    volume = _find_volume(request)
    if isinstance(volume, web.Response):
        return volume
    return _ok(_render_volume(_state(request), volume))


async def delete_volume(request: web.Request) -> web.Response:
    """``DELETE /v2/volumes/{id}``: refused while mounted or while creating/resizing/deleting."""
    volume = _find_volume(request)
    if isinstance(volume, web.Response):
        return volume
    state = _state(request)
    mounted = state.resources.mounting_pods(volume.id)
    if mounted:
        what = f"Volume is mounted by {len(mounted)} pod(s) and cannot be deleted."
        data = {"mountCount": len(mounted), "podList": _pod_refs(mounted)}
        return _refuse(state, what, in_use=True, data=data)
    status = volume.status(state.resources.now())
    if status not in ("active", "error"):  # an error volume can always be cleaned up
        return _refuse(state, f"volume {volume.id} is {status}; it cannot be deleted now", in_use=False)
    state.resources.start_delete(volume)
    return _ok(True)


async def rename_volume(request: web.Request) -> web.Response:
    """``POST /v2/volumes/{id}/name`` with ``{"name": ...}``."""
    volume = _find_volume(request)
    if isinstance(volume, web.Response):
        return volume
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    name = _text(body, "name", required=True)
    if isinstance(name, web.Response):
        return name
    assert name is not None
    volume.name = name
    return _ok(_render_volume(_state(request), volume))


async def resize_volume(request: web.Request) -> web.Response:
    """``POST /v2/volumes/{id}/resize`` with ``{"sizeInGb": ...}``: CEPH/VENDOR, active, unmounted."""
    volume = _find_volume(request)
    if isinstance(volume, web.Response):
        return volume
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    size = _size(body.get("sizeInGb"))
    if isinstance(size, web.Response):
        return size
    if volume.storage_type not in ("CEPH", "VENDOR"):
        kind = volume.storage_type
        return _invalid(f"storageType: only CEPH and VENDOR volumes can be resized, not {kind}")
    state = _state(request)
    now = state.resources.now()
    current = volume.size(now) or 0
    if size < current:  # whether volumes can shrink is not documented; the simulator says no
        return _invalid(f"sizeInGb: a volume cannot shrink ({current} GB now)")
    mounted = state.resources.mounting_pods(volume.id)
    if mounted:
        what = f"Volume is mounted by {len(mounted)} pod(s) and cannot be resized."
        data = {"mountCount": len(mounted), "podList": _pod_refs(mounted)}
        return _refuse(state, what, in_use=True, data=data)
    status = volume.status(now)
    if status != "active":
        what = f"volume {volume.id} is {status}; only an ACTIVE volume can be resized"
        return _refuse(state, what, in_use=False)
    state.resources.start_resize(volume, size)
    return _ok(None)


def add_routes(app: web.Application, state: ResourceState) -> None:
    """Register the resource routes on ``app`` (before its catch-all route)."""
    app[RESOURCES] = state
    router = app.router
    router.add_get("/v2/vms/types", list_vm_types)
    router.add_get("/v2/container-registry-auths", list_credentials)
    router.add_post("/v2/container-registry-auths", create_credential)
    router.add_get("/v2/container-registry-auths/{id}", get_credential)
    router.add_patch("/v2/container-registry-auths/{id}", update_credential)
    router.add_delete("/v2/container-registry-auths/{id}", delete_credential)
    router.add_get("/v2/volumes", list_volumes)
    router.add_post("/v2/volumes", create_volume)
    router.add_get("/v2/volumes/{id}", get_volume)
    router.add_delete("/v2/volumes/{id}", delete_volume)
    router.add_post("/v2/volumes/{id}/name", rename_volume)
    router.add_post("/v2/volumes/{id}/resize", resize_volume)
