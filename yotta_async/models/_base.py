"""The one msgspec base Struct every model derives from."""

from __future__ import annotations

from typing import Annotated

import msgspec

# An id as the API sends it: an int64 (Java long). A JSON number beyond it is a malformed
# reply, not an id to carry around (msgspec alone would accept up to 2**64 - 1).
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class Model(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True, gc=False):
    """camelCase on the wire, snake_case in Python; fields left at their default are omitted.

    ``gc=False``: models hold only scalars and lists of other models, so they cannot form
    reference cycles, and keeping 1,000-pod replies out of the cycle collector makes
    decoding them markedly faster (see benchmarks/bench_decode.py).
    """
