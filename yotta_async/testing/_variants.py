"""Switches that make the simulator play each documented (or plausible) variant of the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Variants"]


@dataclass(frozen=True)
class Variants:
    """Which reading of an ambiguous spec point the simulator plays (``resources-v2.md``).

    The defaults follow the documented primary form; flip a switch to test a client against
    the other one. Assign a new instance to ``sim.variants`` at any time.

    * ``regions_as_strings``: ``GET /v2/vms/types`` lists regions as plain strings (the
      YottaML mock) instead of ``{region, regionName, available, vmTypeId}`` objects.
    * ``in_use``: how a delete of a credential in use is refused: ``"409"`` (HTTP 409, as
      YottaML's OpenAPI file says) or ``"25002"`` (HTTP 200 with code 25002 and
      ``data.podList`` / ``data.elasticList``, as its example reads). Volume refusals
      (delete/resize while mounted or not active) follow the same switch: HTTP 409, or
      HTTP 200 with a business code (their codes are not documented; the simulator uses
      25002 for "in use" and 12001 for "not active").
    * ``string_ids``: credential and volume ids are sent as JSON strings (18-digit ids
      appear that way in YottaML's tests) instead of JSON integers.
    * ``created_at``: a credential's ``createdAt`` as an ISO-8601 string, epoch
      milliseconds, or absent.
    * ``status_case``: volume statuses in ``"lower"`` case (documented) or ``"upper"``
      (the resize rule's ``ACTIVE``; not valid against the OpenAPI enum).
    * ``echo_credential_id``: pods carry ``containerRegistryAuthId`` in responses (not in
      the documented ``PodV2Response``; a plausible addition the SDK decodes if sent).
    """

    regions_as_strings: bool = False
    in_use: Literal["409", "25002"] = "409"
    string_ids: bool = False
    created_at: Literal["iso", "epoch", "absent"] = "iso"
    status_case: Literal["lower", "upper"] = "lower"
    echo_credential_id: bool = True
