"""The one msgspec base Struct every model derives from."""

from __future__ import annotations

import msgspec


class Model(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """camelCase on the wire, snake_case in Python; fields left at their default are omitted."""
