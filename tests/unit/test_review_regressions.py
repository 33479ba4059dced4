"""Regression tests for defects found in review: pure functions and models, no I/O."""

from __future__ import annotations

import pytest

from yotta_async import PodCreateRequest, ValidationError


@pytest.mark.parametrize("port", ["\u00b2", "\u00b3/tcp", "\uff11\uff12\uff13"])
def test_expose_with_non_ascii_digits_is_a_validation_error(port: str) -> None:
    # str.isdigit() accepts superscript two (which int() refuses) and fullwidth digits (which int()
    # silently converts): both must be refused as a ValidationError naming the entry.
    with pytest.raises(ValidationError) as info:
        PodCreateRequest.build(name="n", image="i", gpu_type="g", gpu_count=1, expose=[8888, port])
    assert info.value.field == "expose[1]"
