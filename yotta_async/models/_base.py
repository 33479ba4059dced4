"""The one msgspec base Struct every model derives from."""

from __future__ import annotations

import msgspec


class Model(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True, gc=False):
    """camelCase on the wire, snake_case in Python; fields left at their default are omitted.

    ``gc=False``: models hold only scalars and lists of other models, so they cannot form
    reference cycles, and keeping 1,000-pod replies out of the cycle collector makes
    decoding them markedly faster (see benchmarks/bench_decode.py).
    """
