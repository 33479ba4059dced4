"""Input fuzzing: every invalid request is a ValidationError naming the field, and never leaves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import msgspec
import pytest
from aiohttp import web
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.hardening._request_strategies import INT64, INVALID, NOT_STR, VALID, Case
from tests.hardening._util import BIG_ID, VALID_FIELDS, RequestSpy, pod_body, serve
from yotta_async import PodCreateRequest, ValidationError, YottaClient
from yotta_async._session import encode
from yotta_async._token import TOKEN_ENV

SCHEMA = json.loads((Path(__file__).parent / "pod_create_request.schema.json").read_text())

# The spy is shared by the examples of one test on purpose: each example compares counts.
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --- a spied client against a loopback server -------------------------------------------------


class Spied:
    """A client whose every outgoing request is counted by a transport spy and by the server."""

    def __init__(self, client: YottaClient, spy: RequestSpy) -> None:
        self.client = client
        self.spy = spy
        self.served = 0


@pytest.fixture
async def spied() -> AsyncIterator[Spied]:
    holder: list[Spied] = []

    async def handler(request: web.Request) -> web.Response:
        holder[0].served += 1
        return web.Response(body=pod_body(status="PENDING"), content_type="application/json")

    spy = RequestSpy()
    async with (
        serve(handler) as url,
        spy.session() as http,
        YottaClient("k-fuzz", url, session=http) as client,
    ):
        holder.append(Spied(client, spy))
        yield holder[0]


def _check(exc: ValidationError, field: str) -> None:
    assert exc.field == field
    assert str(exc).startswith(f"{field}: ")
    assert exc.message


# --- tests ----------------------------------------------------------------------------------


async def test_spy_sees_a_valid_create(spied: Spied) -> None:
    """Positive control: the spy and the server do count a request that is sent."""
    pod = await spied.client.pods.create(**VALID_FIELDS)
    assert pod.id == BIG_ID
    assert spied.spy.started == [("POST", "/v2/pods")]
    assert spied.served == 1


@given(case=INVALID)
@FUZZ
def test_constructor_rejects_each_invalid_field(case: Case) -> None:
    field, overrides = case
    with pytest.raises(ValidationError) as info:
        PodCreateRequest(**{**VALID_FIELDS, **overrides})
    _check(info.value, field)


@given(case=INVALID)
@FUZZ
def test_build_rejects_each_invalid_field(case: Case) -> None:
    field, overrides = case
    # build() accepts any iterable of ports for ``expose`` (a documented friendly shape).
    assume(not (field == "expose" and isinstance(overrides["expose"], (tuple, set))))
    with pytest.raises(ValidationError) as info:
        PodCreateRequest.build(**{**VALID_FIELDS, **overrides})
    _check(info.value, field)


@given(case=INVALID)
@FUZZ
async def test_create_with_fields_sends_nothing(spied: Spied, case: Case) -> None:
    field, overrides = case
    assume(not (field == "expose" and isinstance(overrides["expose"], (tuple, set))))
    before = spied.spy.count
    with pytest.raises(ValidationError) as info:
        await spied.client.pods.create(**{**VALID_FIELDS, **overrides})
    _check(info.value, field)
    assert spied.spy.count == before and spied.served == 0


@given(case=INVALID)
@FUZZ
async def test_create_with_a_mutated_request_sends_nothing(spied: Spied, case: Case) -> None:
    """A request that was valid when built but was changed afterwards is checked again."""
    field, overrides = case
    request = PodCreateRequest(**VALID_FIELDS)
    for name, value in overrides.items():
        setattr(request, name, value)
    before = spied.spy.count
    with pytest.raises(ValidationError) as info:
        await spied.client.pods.create(request)
    _check(info.value, field)
    assert spied.spy.count == before and spied.served == 0


@pytest.mark.parametrize("missing", ["name", "image", "gpu_type", "gpu_count"])
async def test_missing_required_field_is_named(spied: Spied, missing: str) -> None:
    fields = {k: v for k, v in VALID_FIELDS.items() if k != missing}
    with pytest.raises(ValidationError) as info:
        PodCreateRequest.build(**fields)
    _check(info.value, missing)
    with pytest.raises(ValidationError) as info:
        await spied.client.pods.create(**fields)
    _check(info.value, missing)
    assert spied.spy.count == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gpu_cnt": 1}, "gpu_cnt"),
        ({"env": {"A": "1"}, "environment_vars": []}, "env"),
        ({"region": "us-east-1", "regions": ["us-east-1"]}, "region"),
        ({"env": {"": "x"}}, "environment_vars[0].key"),
        ({"expose": ["http"]}, "expose[0]"),
        ({"expose": "8888"}, "expose"),
        ({"expose": [70000]}, "expose[0].port"),
    ],
)
async def test_friendly_build_shapes_are_checked_too(
    spied: Spied, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await spied.client.pods.create(**{**VALID_FIELDS, **kwargs})
    _check(info.value, field)
    assert spied.spy.count == 0


async def test_create_refuses_a_non_request_and_mixed_arguments(spied: Spied) -> None:
    with pytest.raises(ValidationError) as info:
        await spied.client.pods.create(VALID_FIELDS)  # type: ignore[arg-type]
    _check(info.value, "request")
    with pytest.raises(ValidationError) as info:
        await spied.client.pods.create(PodCreateRequest(**VALID_FIELDS), name="x")
    _check(info.value, "request")
    assert spied.spy.count == 0


BAD_IDS = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=INT64 + 1),
    st.booleans(),
    st.floats(),
    st.none(),
    st.text(max_size=6).filter(
        # Mirrors check_id, which strips first: int('0\x1f') fails, int('0\x1f'.strip()) is 0.
        lambda s: not (s.strip().isascii() and s.strip().isdigit() and 0 < int(s.strip()) <= INT64)
    ),
    st.sampled_from(["²", "\uff11\uff12", "\u0661\u0662\u0663", " 0 ", "-5", "1e3", "0x10", str(INT64 + 1)]),
)


@given(bad=BAD_IDS, op=st.sampled_from(["get", "pause", "resume", "delete"]))
@FUZZ
async def test_bad_pod_ids_send_nothing(spied: Spied, bad: object, op: str) -> None:
    before = spied.spy.count
    with pytest.raises(ValidationError) as info:
        await getattr(spied.client.pods, op)(bad)
    _check(info.value, "pod_id")
    assert spied.spy.count == before


@given(
    kwargs=st.one_of(
        st.builds(lambda v: {"regions": [v]}, st.one_of(st.just(""), NOT_STR)),
        st.builds(
            lambda v: {"statuses": [v]},
            st.one_of(
                st.text(min_size=1, max_size=8).filter(
                    lambda s: (
                        s.strip().upper()
                        not in {
                            "PENDING",
                            "PREPARING",
                            "INITIALIZING",
                            "RUNNING",
                            "PAUSING",
                            "PAUSED",
                            "TERMINATING",
                            "TERMINATED",
                            "FAILED",
                            "INITIALIZE",
                            "STOPPING",
                            "STOPPED",
                            "0",
                            "1",
                            "2",
                            "3",
                            "4",
                            "5",
                            "6",
                        }
                    )
                ),
                st.integers().filter(lambda n: not 0 <= n <= 6),
                st.floats(),
                st.none(),
            ),
        ),
    )
)
@FUZZ
async def test_bad_list_filters_send_nothing(spied: Spied, kwargs: dict[str, Any]) -> None:
    before = spied.spy.count
    with pytest.raises(ValidationError) as info:
        await spied.client.pods.list(**kwargs)
    assert info.value.field in ("regions[0]", "statuses[0]")
    assert spied.spy.count == before


@given(request=VALID)
@settings(max_examples=200, deadline=None)
def test_valid_requests_round_trip_and_match_the_spec_schema(request: PodCreateRequest) -> None:
    wire = encode(request)  # what the session sends: Decimal prices as JSON numbers
    assert msgspec.json.decode(wire, type=PodCreateRequest) == request
    assert msgspec.json.decode(wire, type=PodCreateRequest, strict=True) == request
    jsonschema.validate(json.loads(wire), SCHEMA)
    # ids above 2**53 survive as exact integers on the wire
    if request.container_registry_auth_id is not None:
        assert json.loads(wire)["containerRegistryAuthId"] == request.container_registry_auth_id


@given(request=VALID)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_valid_requests_reach_the_server_unchanged(spied: Spied, request: PodCreateRequest) -> None:
    """Untokened, the body is the request itself; tokened, it differs only by the token var."""
    before = spied.spy.count
    spied.spy.chunks.clear()
    await spied.client.pods.create(request, client_token=False)
    assert msgspec.json.decode(b"".join(spied.spy.chunks), type=PodCreateRequest) == request
    spied.spy.chunks.clear()
    await spied.client.pods.create(request, client_token="tok-1")
    sent = msgspec.json.decode(b"".join(spied.spy.chunks), type=PodCreateRequest)
    assert spied.spy.count == before + 2
    assert [e for e in sent.environment_vars or [] if e.key != TOKEN_ENV] == (request.environment_vars or [])
    assert [e.value for e in sent.environment_vars or [] if e.key == TOKEN_ENV] == ["tok-1"]
    assert msgspec.structs.replace(sent, environment_vars=request.environment_vars) == request
