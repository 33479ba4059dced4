"""``_read_capped`` on its own: the memory-mapped path for big bodies and the bytearray path."""

from __future__ import annotations

import asyncio
import mmap
from collections.abc import AsyncIterator, Iterator, Sequence

import msgspec
import pytest

from tests._fakes import RecordedMap, record_maps
from yotta_async import ResponseDecodeError, _session
from yotta_async._session import _read_capped

# Small stand-ins for the module's 1 MiB / 256 MiB, so that no test moves real megabytes.
MAPPED = 64
LIMIT = 256


class FakeStream:
    """What ``_read_capped`` reads from (``aiohttp.StreamReader``): ``iter_chunked`` alone."""

    def __init__(self, chunks: Sequence[bytes], error: BaseException | None = None) -> None:
        self.chunks = list(chunks)
        self.error = error  # raised after the last chunk, as a dropped connection is
        self.sizes: list[int] = []

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        self.sizes.append(n)
        for chunk in self.chunks:
            yield chunk
        if self.error is not None:
            raise self.error


def split(body: bytes, size: int = 7) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def envelope(length: int) -> bytes:
    """A success envelope of exactly ``length`` bytes."""
    head, tail = b'{"code":10000,"message":"', b'","data":null}'
    assert length >= len(head) + len(tail)
    return head + b"x" * (length - len(head) - len(tail)) + tail


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_session, "MAPPED_BODY_BYTES", MAPPED)
    monkeypatch.setattr(_session, "MAX_RESPONSE_BYTES", LIMIT)


@pytest.fixture
def maps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RecordedMap]]:
    """Every memory map ``_read_capped`` makes, recorded (only the session module sees this)."""
    made = record_maps(monkeypatch)
    yield made
    for mapped in made:
        mapped.close()


async def read(stream: FakeStream, length: int | None) -> bytes | bytearray | mmap.mmap:
    return await _read_capped(stream, 200, "GET", "/v2/pods", length)


@pytest.mark.usefixtures("small")
async def test_a_big_body_of_the_announced_length_is_read_into_a_memory_map(
    maps: list[mmap.mmap],
) -> None:
    body = envelope(MAPPED * 3 + 5)
    raw = await read(FakeStream(split(body)), len(body))
    assert isinstance(raw, mmap.mmap) and maps == [raw]
    assert len(raw) == len(body) and raw[:] == body
    decoded = msgspec.json.decode(raw)
    assert decoded == msgspec.json.decode(body) and decoded["code"] == 10000


@pytest.mark.usefixtures("small")
async def test_a_body_exactly_at_the_mapping_threshold_is_mapped(maps: list[mmap.mmap]) -> None:
    body = envelope(MAPPED)
    raw = await read(FakeStream([body]), MAPPED)
    assert isinstance(raw, mmap.mmap) and raw[:] == body


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize(
    ("received", "announced"),
    [
        (100, 101),  # one byte short
        (0, 100),  # nothing at all
        (101, 100),  # one byte long
        (300, 100),  # far longer (and over the limit) than announced
    ],
)
async def test_a_body_that_does_not_match_its_content_length_is_refused_and_unmapped(
    maps: list[mmap.mmap], received: int, announced: int
) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        await read(FakeStream(split(b"y" * received)), announced)
    assert f"does not match its Content-Length of {announced} bytes" in str(info.value)
    assert info.value.http_status == 200
    assert info.value.method == "GET" and info.value.path == "/v2/pods"
    # The map is given back at once, not left for the garbage collector.
    assert len(maps) == 1 and maps[0].closed


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize(
    "error", [ConnectionResetError("peer went away"), asyncio.CancelledError()], ids=repr
)
async def test_a_read_cut_short_unmaps_and_lets_the_error_through(
    maps: list[mmap.mmap], error: BaseException
) -> None:
    with pytest.raises(type(error)) as info:
        await read(FakeStream(split(b"z" * 80), error=error), 200)
    assert info.value is error  # the session maps a connection error to APIConnectionError
    assert len(maps) == 1 and maps[0].closed


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize("length", [None, MAPPED - 1])
async def test_a_small_or_unannounced_body_is_gathered_in_a_bytearray(
    maps: list[mmap.mmap], length: int | None
) -> None:
    body = envelope(MAPPED - 1)
    raw = await read(FakeStream(split(body)), length)
    assert type(raw) is bytearray and raw == body and maps == []
    assert msgspec.json.decode(raw)["code"] == 10000


@pytest.mark.usefixtures("small")
async def test_an_announced_length_over_the_limit_is_not_mapped(maps: list[mmap.mmap]) -> None:
    # The session refuses such a Content-Length before reading; here the limit still holds.
    with pytest.raises(ResponseDecodeError, match=f"over the limit of {LIMIT} bytes"):
        await read(FakeStream(split(b"w" * (LIMIT + 1))), LIMIT + 1)
    assert maps == []


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize("length", [None, 10])
async def test_a_gathered_body_over_the_limit_is_refused(maps: list[mmap.mmap], length: int | None) -> None:
    stream = FakeStream(split(b"v" * (LIMIT + 1), size=LIMIT // 4))
    with pytest.raises(ResponseDecodeError, match=f"over the limit of {LIMIT} bytes") as info:
        await read(stream, length)
    assert info.value.http_status == 200 and maps == []


@pytest.mark.usefixtures("small")
async def test_a_gathered_body_exactly_at_the_limit_is_read() -> None:
    raw = await read(FakeStream(split(b"u" * LIMIT, size=LIMIT // 4)), None)
    assert raw == b"u" * LIMIT


async def test_the_real_thresholds_pick_the_path() -> None:
    # Unpatched: 1 MiB of known length is mapped; one byte less is not.
    one_mib = _session.MAPPED_BODY_BYTES
    assert one_mib == 1 << 20
    body = b"a" * one_mib
    mapped = await read(FakeStream(split(body, size=1 << 16)), one_mib)
    assert isinstance(mapped, mmap.mmap)
    try:
        assert mapped[:] == body
    finally:
        mapped.close()
    gathered = await read(FakeStream(split(body[:-1], size=1 << 16)), one_mib - 1)
    assert type(gathered) is bytearray and gathered == body[:-1]
