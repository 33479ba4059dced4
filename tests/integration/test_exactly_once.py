"""Exactly-once create against the simulator: each ambiguous failure kind is reconciled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import anyio.lowlevel
import pytest

from tests.integration.conftest import fast_client
from yotta_async import (
    APIConnectionError,
    APITimeoutError,
    Backoff,
    InvalidRequestError,
    PodCreateRequest,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    ValidationError,
    YottaClient,
)
from yotta_async._protocol import is_ambiguous
from yotta_async._token import GROUP_ENV, TOKEN_ENV
from yotta_async.models import EnvVar
from yotta_async.testing import FaultPlan, FaultRule, Simulator
from yotta_async.testing._state import SimPod

REQ = PodCreateRequest(name="once", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
POST = "POST /v2/pods"
LIST = "GET /v2/pods"


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[YottaClient]:
    async with fast_client(sim, timeout=5) as c:
        yield c


class FakeTime:
    """A client clock and sleep that move together, instantly."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        self.slept += seconds
        await anyio.lowlevel.checkpoint()


def tokens(sim: Simulator) -> list[str]:
    out = []
    for pod in sim.pods():
        env = {v["key"]: v["value"] for v in pod.get("environmentVars") or []}
        out.append(env.get(TOKEN_ENV, ""))
    return out


@pytest.mark.parametrize("lost", ["lost_500", "lost_reset"])
async def test_created_but_reply_lost_returns_the_pod_without_a_second_post(
    sim: Simulator, client: YottaClient, lost: str
) -> None:
    sim.faults = FaultPlan({POST: FaultRule(**{lost: 1.0}, limit=1)})  # type: ignore[arg-type]
    pod = await client.pods.create(REQ)
    assert [p["id"] for p in sim.pods()] == [pod.id]
    assert sim.request_counts[POST] == 1  # reconciled, not re-sent
    assert sim.request_counts[LIST] == 1  # found on the first listing
    assert pod.env(TOKEN_ENV) == tokens(sim)[0]
    assert pod.env(GROUP_ENV) is None
    assert sim.faults.injected[lost] == 1


@pytest.mark.parametrize(
    ("rule", "kind"),
    [(FaultRule(error_500=1.0, limit=1), "500"), (FaultRule(reset=1.0, limit=1), "reset"),
     (FaultRule(error_502=1.0, limit=1), "502")],
)
async def test_failure_before_the_server_acted_is_resent_after_two_empty_listings(
    sim: Simulator, client: YottaClient, rule: FaultRule, kind: str
) -> None:
    sim.faults = FaultPlan({POST: rule})
    pod = await client.pods.create(REQ)
    assert [p["id"] for p in sim.pods()] == [pod.id]
    assert sim.request_counts[POST] == 2
    assert sim.request_counts[LIST] == 2  # the settle re-check ran before the resend
    assert sim.faults.injected[kind] == 1


async def test_timeout_before_the_server_read_the_body_is_resent(sim: Simulator) -> None:
    # The simulator sleeps before reading the body, so the client's timeout (0.05 s) hits
    # first and the create never happens; reconciliation finds nothing and sends it again.
    sim.faults = FaultPlan({POST: FaultRule(latency=1.0, latency_seconds=0.15, limit=1)})
    async with YottaClient(sim.api_key, sim.base_url, timeout=0.05, max_retries=2,
                           backoff=Backoff(initial=0.001, maximum=0.002)) as client:
        client.pods.reconcile_settle = 0.001
        pod = await client.pods.create(REQ)
    await anyio.sleep(0.2)  # the abandoned request has finished failing on the server
    assert [p["id"] for p in sim.pods()] == [pod.id]
    assert sim.request_counts[POST] == 2
    assert sim.request_counts[LIST] == 2


def lag_listings(sim: Simulator, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make ``GET /v2/pods`` omit pods younger than ``seconds``: an eventually consistent list."""
    visible = sim.store.iter_pods

    def lagging() -> Iterator[SimPod]:
        now = sim.store.now()
        return (p for p in visible() if now - p.timeline[0][0] >= seconds)

    monkeypatch.setattr(sim.store, "iter_pods", lagging)


async def test_a_create_that_shows_up_late_in_listings_is_found_after_the_settle(
    sim: Simulator, client: YottaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.faults = FaultPlan({POST: FaultRule(lost_500=1.0, limit=1)})
    lag_listings(sim, monkeypatch, 0.1)
    client.pods.reconcile_settle = 0.25
    pod = await client.pods.create(REQ)
    monkeypatch.undo()
    assert [p["id"] for p in sim.pods()] == [pod.id]
    assert sim.request_counts[POST] == 1
    assert sim.request_counts[LIST] == 2


async def test_without_a_settle_a_late_listing_means_a_duplicate_the_documented_limit(
    sim: Simulator, client: YottaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why the settle exists: with none, both listings miss the pod and the resend makes a
    # second one. Both carry the same token, so group cleanup and sweep still see them.
    sim.faults = FaultPlan({POST: FaultRule(lost_500=1.0, limit=1)})
    lag_listings(sim, monkeypatch, 0.1)
    client.pods.reconcile_settle = 0.0
    pod = await client.pods.create(REQ)
    monkeypatch.undo()
    assert pod.id in [p["id"] for p in sim.pods()]
    assert len(sim.pods()) == 2
    assert len(set(tokens(sim))) == 1


async def test_rate_limit_is_retried_by_the_session_without_reconciling(sim: Simulator) -> None:
    # The simulator's hint is 1 s; the client's clock and sleep are fake, so nobody waits.
    sim.faults = FaultPlan({POST: FaultRule(rate_limit=1.0, retry_after=1, limit=2)})
    fake = FakeTime()
    async with fast_client(sim, timeout=5, sleep=fake.sleep, clock=fake.now) as client:
        await client.pods.create(REQ)
    assert fake.slept >= 2.0
    assert len(sim.pods()) == 1
    assert sim.request_counts[POST] == 3
    assert sim.request_counts[LIST] == 0


async def test_invalid_request_is_neither_sent_nor_reconciled(
    sim: Simulator, client: YottaClient
) -> None:
    bad = PodCreateRequest(name="x", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    bad.gpu_count = 3  # mutated after construction: create re-validates
    with pytest.raises(ValidationError):
        await client.pods.create(bad)
    assert sim.total_requests == 0


async def test_every_attempt_ambiguous_and_absent_gives_up_with_a_note(
    sim: Simulator, client: YottaClient
) -> None:
    sim.faults = FaultPlan({POST: FaultRule(error_500=1.0)})
    with pytest.raises(ServerError) as info:
        await client.pods.create(REQ)
    assert sim.pods() == []
    assert sim.request_counts[POST] == client._session.max_retries + 1
    notes = getattr(info.value, "__notes__", [])
    assert any("most likely not created" in n for n in notes)


async def test_listing_failure_during_reconciliation_raises_the_create_error(
    sim: Simulator, client: YottaClient
) -> None:
    sim.faults = FaultPlan({POST: FaultRule(lost_500=1.0), LIST: FaultRule(error_500=1.0)})
    with pytest.raises(ServerError) as info:
        await client.pods.create(REQ)
    assert info.value.path == "/v2/pods" and info.value.method == "POST"
    assert any("listing pods failed" in n for n in getattr(info.value, "__notes__", []))
    assert len(sim.pods()) == 1  # it was created; the caller is told it could not be checked


async def test_opting_out_sends_no_token_and_raises_ambiguous_failures(
    sim: Simulator, client: YottaClient
) -> None:
    sim.faults = FaultPlan({POST: FaultRule(lost_reset=1.0, limit=1)})
    with pytest.raises(APIConnectionError) as info:
        await client.pods.create(REQ, client_token=False)
    assert info.value.request_sent
    assert tokens(sim) == [""]
    assert sim.request_counts[LIST] == 0


async def test_a_chosen_token_is_sent_and_checked(sim: Simulator, client: YottaClient) -> None:
    pod = await client.pods.create(REQ, client_token="job-42.a")
    assert pod.env(TOKEN_ENV) == "job-42.a"
    with pytest.raises(ValidationError) as info:
        await client.pods.create(REQ, client_token="has space")
    assert info.value.field == "client_token"
    reserved = PodCreateRequest(name="n", image="img", gpu_type="g", gpu_count=1,
                                environment_vars=[EnvVar(key=TOKEN_ENV, value="mine")])
    with pytest.raises(ValidationError) as info:
        await client.pods.create(reserved)
    assert info.value.field == "environment_vars[0].key"
    assert sim.request_counts[POST] == 1


def test_ambiguity_classification() -> None:
    assert not is_ambiguous(ResponseDecodeError("x", http_status=404))
    assert is_ambiguous(ResponseDecodeError("x", http_status=502))
    assert is_ambiguous(ResponseDecodeError("x", http_status=200))
    assert is_ambiguous(APIConnectionError("reset", request_sent=True))
    assert not is_ambiguous(APIConnectionError("refused", request_sent=False))
    assert is_ambiguous(APITimeoutError("slow"))
    assert is_ambiguous(ServerError("boom", http_status=500))
    assert not is_ambiguous(InvalidRequestError("bad", code=10001))
    assert not is_ambiguous(RateLimitError("slow down", http_status=429))
