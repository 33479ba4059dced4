"""``client.credentials`` against the simulator: the whole lifecycle, in-use refusals in both forms."""

from __future__ import annotations

import pytest

from yotta_async import (
    CredentialNotFoundError,
    InvalidRequestError,
    InvalidStateError,
    ResourceInUseError,
    ValidationError,
)
from yotta_async.models.credential import RegistryType
from yotta_async.testing import ManualClock, Simulator, Timings, Variants

from .conftest import fast_client

PASSWORD = "hunter2-registry-PASSWORD"
T = Timings(jitter=0.0)


async def test_create_list_get_update_delete(sim: Simulator) -> None:
    async with fast_client(sim) as client:
        assert await client.credentials.list() == []
        cred = await client.credentials.create(
            name="hub", type="docker_hub", username="me", password=PASSWORD
        )
        assert cred.type is RegistryType.DOCKER_HUB and cred.name == "hub"
        assert cred.id > 2**53  # an exact 18-digit id
        assert cred.created is not None
        assert sim.password_matches(cred.id, PASSWORD)
        assert await client.credentials.list() == [cred]
        assert await client.credentials.get(str(cred.id)) == cred
        renamed = await client.credentials.update(cred, name="hub-2")
        assert renamed.name == "hub-2" and renamed.id == cred.id
        await client.credentials.update(cred.id, password="new-" + PASSWORD)
        assert sim.password_matches(cred.id, "new-" + PASSWORD)
        assert not sim.password_matches(cred.id, PASSWORD)
        await client.credentials.delete(cred.id)
        assert await client.credentials.list() == []
        with pytest.raises(CredentialNotFoundError) as info:  # HTTP 404: the API's only not-found error
            await client.credentials.get(cred.id)
        assert info.value.http_status == 404
    assert sim.request_counts["POST /v2/container-registry-auths"] == 1
    assert sim.request_counts["PATCH /v2/container-registry-auths/{id}"] == 2


@pytest.mark.parametrize("form", ["409", "25002"])
async def test_delete_in_use_is_refused_in_either_form(form: str) -> None:
    clock = ManualClock()
    sim = Simulator(clock=clock, timings=T, variants=Variants(in_use=form))  # type: ignore[arg-type]
    async with sim, fast_client(sim) as client:
        cred = await client.credentials.create(name="c", type="GCR", username="u", password=PASSWORD)
        pod = await client.pods.create(name="p", image="me/private:1", gpu_type="NVIDIA_H100_80G",
                                       gpu_count=1, container_registry_auth_id=cred)
        assert pod.credential_id == cred.id
        with pytest.raises(ResourceInUseError) as info:
            await client.credentials.delete(cred.id)
        err = info.value
        assert isinstance(err, InvalidStateError)
        assert err.resource_id == cred.id
        if form == "409":
            assert err.http_status == 409 and err.pod_list is None and err.pod_ids == []
        else:
            assert (err.http_status, err.code) == (200, 25002)
            assert err.pod_ids == [pod.id]
            assert err.pod_list == [{"id": str(pod.id), "name": "p"}] and err.elastic_list == []
        # Once the pod is TERMINATED the credential is free again.
        await client.pods.delete(pod.id)
        clock.advance(T.terminating)
        await client.credentials.delete(cred.id)
        assert sim.credentials() == []


async def test_pod_with_unknown_credential_is_refused(sim: Simulator) -> None:
    async with fast_client(sim) as client:
        with pytest.raises(InvalidRequestError, match="containerRegistryAuthId"):
            await client.pods.create(name="p", image="i", gpu_type="NVIDIA_H100_80G", gpu_count=1,
                                     container_registry_auth_id=12345)
    assert sim.live_pods() == 0


@pytest.mark.parametrize("created_at", ["iso", "epoch", "absent"])
async def test_every_created_at_form_and_string_ids(created_at: str) -> None:
    variants = Variants(string_ids=True, created_at=created_at)  # type: ignore[arg-type]
    async with Simulator(variants=variants) as sim, fast_client(sim) as client:
        cred = await client.credentials.create(name="c", type="ECR", username="u", password=PASSWORD)
        assert isinstance(cred.id, int) and cred.id > 2**53
        assert (cred.created is None) == (created_at == "absent")
        assert await client.credentials.get(cred.id) == cred


async def test_bad_input_is_refused_before_sending(sim: Simulator) -> None:
    async with fast_client(sim) as client:
        for kwargs, field in (
            ({"name": "", "type": "GCR", "username": "u", "password": "p"}, "name"),
            ({"name": "n", "type": "not a type!", "username": "u", "password": "p"}, "type"),
            ({"name": "n", "type": "GCR", "username": "", "password": "p"}, "username"),
            ({"name": "n", "type": "GCR", "username": "u", "password": ""}, "password"),
            ({"name": "n", "type": "GCR", "username": "u", "password": 5}, "password"),
        ):
            with pytest.raises(ValidationError) as info:
                await client.credentials.create(**kwargs)  # type: ignore[arg-type]
            assert info.value.field == field
        with pytest.raises(ValidationError, match="at least one"):
            await client.credentials.update(1)
        with pytest.raises(ValidationError) as info:
            await client.credentials.get("12x")
        assert info.value.field == "credential_id"
    assert sim.total_requests == 0
