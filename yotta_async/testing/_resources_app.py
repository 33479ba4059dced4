"""The simulator's routes for the resources around a pod launch: GPU types, credentials, volumes."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from aiohttp import web

from ._app import mark_success
from ._state import PodStore
from ._variants import Variants

__all__ = ["RESOURCES", "ResourceState", "add_routes"]

_JSON = "application/json"
_ENCODE = msgspec.json.encode


@dataclass
class ResourceState:
    """What the resource handlers share: the pod store (with its GPU catalogue) and the variants."""

    store: PodStore
    variants: Variants


RESOURCES = web.AppKey("yotta_sim_resources", ResourceState)


def _ok(data: object) -> web.Response:
    response = web.Response(
        body=_ENCODE({"code": 10000, "message": "success", "data": data}), content_type=_JSON
    )
    return mark_success(response)  # lets "reply lost" faults fire


async def list_vm_types(request: web.Request) -> web.Response:
    """``GET /v2/vms/types``: every offered GPU type, ``available`` from the remaining capacity."""
    state = request.app[RESOURCES]
    listing = state.store.catalogue.listing(state.store.holds_gpus)
    if state.variants.regions_as_strings:
        for entry in listing:
            entry["regions"] = [r["region"] for r in entry["regions"]]
    return _ok(listing)


def add_routes(app: web.Application, state: ResourceState) -> None:
    """Register the resource routes on ``app`` (before its catch-all route)."""
    app[RESOURCES] = state
    app.router.add_get("/v2/vms/types", list_vm_types)
