"""Client tokens: stamping, reading back, validation, and the single-flight pod lister."""

from __future__ import annotations

import anyio
import pytest

from yotta_async import EnvVar, Pod, PodCreateRequest, PodStatus, ServerError, ValidationError
from yotta_async._token import (
    GROUP_ENV,
    TOKEN_ENV,
    PodLister,
    annotate,
    check_label,
    check_token,
    group_of,
    matching,
    new_token,
    stamp,
    token_of,
)

REQ = PodCreateRequest(name="n", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1,
                       environment_vars=[EnvVar(key="MODE", value="train")])


def test_tokens_are_unique_hex_and_valid() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert len(token) == 32 and int(token, 16) >= 0
        assert check_token(token) == token


def test_stamp_appends_the_env_vars_and_leaves_the_original_alone() -> None:
    stamped = stamp(REQ, "tok-1", "nightly")
    assert [(v.key, v.value) for v in stamped.environment_vars or []] == [
        ("MODE", "train"), (TOKEN_ENV, "tok-1"), (GROUP_ENV, "nightly")
    ]
    assert [v.key for v in REQ.environment_vars or []] == ["MODE"]
    assert [v.key for v in stamp(REQ, "tok-1").environment_vars or []] == ["MODE", TOKEN_ENV]


@pytest.mark.parametrize("key", [TOKEN_ENV, GROUP_ENV])
def test_stamp_refuses_a_request_that_already_sets_a_reserved_var(key: str) -> None:
    req = PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1,
                           environment_vars=[EnvVar(key="A", value="1"), EnvVar(key=key, value="x")])
    with pytest.raises(ValidationError) as info:
        stamp(req, "t")
    assert info.value.field == "environment_vars[1].key"
    assert key in str(info.value)


@pytest.mark.parametrize("bad", ["", " x", "a b", "x" * 129, "a'b", "é", 5])
def test_bad_tokens_and_labels_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_token(bad)  # type: ignore[arg-type]
    assert info.value.field == "client_token"
    with pytest.raises(ValidationError) as info:
        check_label(bad)  # type: ignore[arg-type]
    assert info.value.field == "label"


def test_token_and_group_are_read_back_from_a_pod() -> None:
    pod = Pod(id=1, status=PodStatus.RUNNING, environment_vars=[
        EnvVar(key=TOKEN_ENV, value="t1"), EnvVar(key=GROUP_ENV, value="g")])
    bare = Pod(id=2, status=PodStatus.RUNNING)
    assert (token_of(pod), group_of(pod)) == ("t1", "g")
    assert (token_of(bare), group_of(bare)) == (None, None)
    assert matching([pod, bare], {"t1", "t9"}) == [pod]


def test_annotate_adds_a_note_where_supported() -> None:
    exc = ValueError("x")
    annotate(exc, "hello")
    assert getattr(exc, "__notes__", ["hello"]) == ["hello"]


async def test_lister_shares_one_listing_between_concurrent_callers() -> None:
    calls = 0
    gate = anyio.Event()

    async def fetch() -> list[Pod]:
        nonlocal calls
        calls += 1
        await gate.wait()
        return [Pod(id=calls, status=PodStatus.RUNNING)]

    lister = PodLister(fetch)
    mark = lister.mark()
    results: list[list[Pod]] = []

    async def one() -> None:
        results.append(await lister.fresh(mark))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        gate.set()
    assert calls == 1
    assert [r[0].id for r in results] == [1] * 50


async def test_lister_does_not_reuse_a_listing_that_started_before_the_mark() -> None:
    calls = 0
    started = anyio.Event()
    gate = anyio.Event()

    async def fetch() -> list[Pod]:
        nonlocal calls
        calls += 1
        number = calls
        started.set()
        await gate.wait()
        return [Pod(id=number, status=PodStatus.RUNNING)]

    lister = PodLister(fetch)
    seen: list[int] = []

    async def early() -> None:
        seen.append((await lister.fresh(lister.mark()))[0].id)

    async def late() -> None:
        await started.wait()
        seen.append((await lister.fresh(lister.mark()))[0].id)  # marked after the first began

    async with anyio.create_task_group() as tg:
        tg.start_soon(early)
        tg.start_soon(late)
        await anyio.wait_all_tasks_blocked()
        gate.set()
    assert calls == 2
    assert sorted(seen) == [1, 2]


async def test_lister_shares_errors_and_recovers_after_a_cancelled_leader() -> None:
    calls = 0
    gate = anyio.Event()

    async def failing() -> list[Pod]:
        nonlocal calls
        calls += 1
        await gate.wait()
        raise ServerError("boom", http_status=500)

    lister = PodLister(failing)
    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await lister.fresh(0)
        except ServerError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        gate.set()
    assert calls == 1 and len(errors) == 3

    # A leader cancelled mid-listing: the follower leads a new listing instead of hanging.
    async def ok() -> list[Pod]:
        nonlocal calls
        calls += 1
        await anyio.sleep(0 if calls > 2 else 10)
        return []

    lister = PodLister(ok)
    got: list[list[Pod]] = []
    async with anyio.create_task_group() as tg:
        leader_scope = anyio.CancelScope()
        tg.start_soon(_lead_in, lister, leader_scope)
        await anyio.wait_all_tasks_blocked()

        async def follower() -> None:
            got.append(await lister.fresh(0))

        tg.start_soon(follower)
        await anyio.wait_all_tasks_blocked()
        leader_scope.cancel()
    assert got == [[]]
    assert calls == 3


async def _lead_in(lister: PodLister, scope: anyio.CancelScope) -> None:
    with scope:
        await lister.fresh(0)
