"""The ``yotta`` connection, ``YottaHook`` and the provider registration, on a real Airflow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yotta_async import ConfigurationError, PodStatus, YottaClient
from yotta_async.contrib.airflow import YottaHook, get_provider_info
from yotta_async.contrib.airflow._common import TOKEN_ENV
from yotta_async.testing import Simulator

KEY = "sk-live-abcdef0123456789"


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str = "yotta_default", **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "yotta", **fields}))


async def test_the_issue_s_connection_json_works(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Simulator(api_key=KEY, time_scale=0.001) as sim:
        sim.add_pods(2, status=PodStatus.RUNNING)
        set_conn(monkeypatch, password=KEY, host=sim.base_url)
        async with await YottaHook().aget_client() as client:
            assert client.base_url == sim.base_url
            assert len(await client.pods.list()) == 2
            assert KEY not in repr(client)


def test_sync_path_and_optional_host(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "gpu", password=KEY)
    client = YottaHook("gpu").get_conn()
    assert isinstance(client, YottaClient)
    assert client.base_url == "https://api.yottalabs.ai"  # the SDK's default


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("http://127.0.0.1:8080", None, "http://127.0.0.1:8080"),
        ("https://api.example.com/", None, "https://api.example.com"),
        ("api.example.com", None, "https://api.example.com"),
        ("api.example.com", 8443, "https://api.example.com:8443"),
    ],
)
def test_host_holds_the_base_url(
    monkeypatch: pytest.MonkeyPatch, host: str, port: int | None, expected: str
) -> None:
    fields: dict[str, Any] = {"password": KEY, "host": host}
    if port:
        fields["port"] = port
    set_conn(monkeypatch, **fields)
    assert YottaHook().get_conn().base_url == expected


def test_extras_tune_the_client_and_its_poller(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, password=KEY, extra=json.dumps({"timeout": 5, "poll_floor": 0.5, "poll_max": 2}))
    client = YottaHook().get_conn()
    assert (client.pods.watch_policy.floor, client.pods.watch_policy.maximum) == (0.5, 2.0)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({}, "no API key"),
        ({"password": KEY, "extra": json.dumps({"colour": "red"})}, "'colour'"),
        ({"password": KEY, "extra": json.dumps({"timeout": True})}, "'timeout'"),
        ({"password": KEY, "extra": json.dumps({"poll_floor": 0})}, "'poll_floor'"),
        ({"password": KEY, "extra": "[1, 2]"}, "JSON object"),
        ({"password": KEY, "host": "http://10.1.2.3:8080"}, "plain-http"),
    ],
)
def test_bad_connections_are_configuration_errors_without_the_key(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], needle: str
) -> None:
    set_conn(monkeypatch, **fields)
    with pytest.raises(ConfigurationError) as info:
        YottaHook().get_conn()
    assert needle in str(info.value)
    assert KEY not in str(info.value)


async def test_async_lookup_never_takes_the_blocking_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Airflow 3.3.2+ the trigger's lookup is Airflow's async one, not the sync call in the loop."""
    from airflow.sdk import BaseHook

    def blocking(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("blocking connection lookup inside the event loop")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(blocking))
    set_conn(monkeypatch, password=KEY)
    async with await YottaHook().aget_client() as client:
        assert client.base_url == "https://api.yottalabs.ai"


def test_ui_form_relabels_host_and_password() -> None:
    behaviour = YottaHook.get_ui_field_behaviour()
    assert behaviour["relabeling"] == {"host": "Base URL", "password": "API key"}
    assert {"login", "schema", "port"} <= set(behaviour["hidden_fields"])


def test_provider_is_registered_through_the_entry_point() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "yotta-async" in ProvidersManager().providers
    hook = ProvidersManagerTaskRuntime().hooks["yotta"]
    assert hook is not None
    assert hook.hook_class_name == "yotta_async.contrib.airflow.hooks.YottaHook"
    assert hook.connection_id_attribute_name == "yotta_conn_id"
    assert get_provider_info()["package-name"] == "yotta-async"


async def test_token_env_is_what_the_sdk_stamps() -> None:
    """The operator finds its pods by this env var; pin it to the SDK's real behaviour."""
    async with Simulator(time_scale=0.001) as sim, YottaClient(sim.api_key, sim.base_url) as client:
        pod = await client.pods.create(name="n", image="i", gpu_type="NVIDIA_H100_80G", gpu_count=1,
                                       client_token="af-0123-0-t1")
        assert pod.env(TOKEN_ENV) == "af-0123-0-t1"
        assert (await client.pods.list())[0].env(TOKEN_ENV) == "af-0123-0-t1"
