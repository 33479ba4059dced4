"""Registry credentials (``/v2/container-registry-auths``): the stored login a private image pull uses."""

from __future__ import annotations

from datetime import datetime, timezone

from ._base import Int64, Model
from ._open_enum import OpenEnum
from .pod import from_epoch_ms

__all__ = ["RegistryCredential", "RegistryType"]


class RegistryType(OpenEnum):
    """The kind of registry a credential logs in to.

    Decoding ignores case and keeps values this SDK does not know (``is_known`` False).
    What username and password mean for ``GCR``/``ECR``/``ACR``, and how a ``PRIVATE``
    credential is tied to a registry host, are not documented; the pod's
    ``image_registry`` names the registry.
    """

    DOCKER_HUB = "DOCKER_HUB"
    GCR = "GCR"
    ECR = "ECR"
    ACR = "ACR"
    PRIVATE = "PRIVATE"


class RegistryCredential(Model, kw_only=True):
    """A stored registry credential, as the API returns it.

    It never carries the password: the API never returns one, and the SDK never keeps the
    one a create or update sent. ``id`` is an exact int even when sent as an 18-digit
    string. ``created_at`` is kept as sent (an ISO-8601 string or epoch milliseconds; both
    are documented) or ``None``; ``created`` gives it as an aware ``datetime``.
    ``username`` is filled only if the API sends it, which is not documented.
    """

    id: Int64
    name: str
    type: RegistryType
    created_at: str | int | None = None
    username: str | None = None

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware UTC datetime, whichever form it came in; ``None`` if unreadable."""
        value = self.created_at
        if isinstance(value, int):
            return from_epoch_ms(value)
        if isinstance(value, str) and value:
            text = value.strip()
            if text.isascii() and text.isdigit():
                return from_epoch_ms(int(text))
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        return None
