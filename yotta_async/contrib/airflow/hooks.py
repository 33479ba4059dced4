"""``YottaHook``: the ``yotta`` Airflow connection turned into a ``YottaClient``.

A ``yotta`` connection holds the API key as its *password* and, optionally, the base URL as
its *host* (the whole URL, such as ``http://127.0.0.1:8080``; the SDK's default applies
without it)::

    AIRFLOW_CONN_YOTTA_DEFAULT='{"conn_type": "yotta", "password": "..."}'

Client settings may go in the connection's *extra* as JSON: ``timeout``, ``max_retries``,
``max_concurrency``, ``requests_per_second``, ``allow_insecure_http``, and the shared
poller's ``poll_floor`` / ``poll_max`` (seconds between ``GET /v2/pods`` listings).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from airflow.sdk import BaseHook

from ... import ConfigurationError, YottaClient

__all__ = ["DEFAULT_CONN_ID", "YottaHook"]

DEFAULT_CONN_ID = "yotta_default"

# extra key -> (accepted types, YottaClient keyword or None for a watch-policy setting)
_EXTRAS: dict[str, tuple[tuple[type, ...], str | None]] = {
    "timeout": ((int, float), "timeout"),
    "max_retries": ((int,), "max_retries"),
    "max_concurrency": ((int,), "max_concurrency"),
    "requests_per_second": ((int, float), "requests_per_second"),
    "allow_insecure_http": ((bool,), "allow_insecure_http"),
    "poll_floor": ((int, float), None),
    "poll_max": ((int, float), None),
}


class YottaHook(BaseHook):
    """Make ``YottaClient`` instances from a ``yotta`` connection.

    ::

        hook = YottaHook("yotta_default")
        async with await hook.aget_client() as client:    # in a trigger or any coroutine
            pods = await client.pods.list()

    :meth:`aget_client` looks the connection up without blocking the event loop (Airflow's
    async lookup); :meth:`get_conn` is the synchronous path for worker code. Each returns a
    *new* client that the caller must close (``async with`` it, or ``await client.aclose()``)
    on the event loop that uses it.

    :param yotta_conn_id: the connection id (default ``yotta_default``).
    """

    conn_name_attr = "yotta_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "yotta"
    hook_name = "Yotta Labs"

    def __init__(self, yotta_conn_id: str = DEFAULT_CONN_ID) -> None:
        super().__init__()
        if not isinstance(yotta_conn_id, str) or not yotta_conn_id:
            raise ConfigurationError(f"yotta_conn_id must be a non-empty string, got {yotta_conn_id!r}")
        self.yotta_conn_id = yotta_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the Airflow UI shows the connection form: host is the base URL, password the key."""
        return {
            "hidden_fields": ["schema", "login", "port"],
            "relabeling": {"host": "Base URL", "password": "API key"},
            "placeholders": {
                "host": "https://api.yottalabs.ai (optional)",
                "extra": '{"timeout": 30, "poll_floor": 1.0, "poll_max": 10.0}',
            },
        }

    def get_conn(self) -> YottaClient:
        """A new client for the connection, looked up synchronously (worker code, not a trigger)."""
        return self.build_client(self.get_connection(self.yotta_conn_id))

    async def aget_client(self) -> YottaClient:
        """A new client for the connection, looked up without blocking the event loop."""
        return self.build_client(await _async_connection(self, self.yotta_conn_id))

    @classmethod
    def build_client(cls, conn: Any) -> YottaClient:
        """A ``YottaClient`` from an Airflow ``Connection`` (see the module docstring)."""
        options = cls.client_kwargs(conn)
        policy = options.pop("_policy", None)
        client = YottaClient(**options)
        if policy:
            client.pods.watch_policy = dataclasses.replace(client.pods.watch_policy, **policy)
        return client

    @classmethod
    def client_kwargs(cls, conn: Any) -> dict[str, Any]:
        """The ``YottaClient`` keywords a connection stands for. Never echoes the key.

        Raises ``ConfigurationError`` (naming the connection and the setting) for a missing
        key, an unknown or mistyped extra setting, or a base URL the client refuses.
        """
        conn_id = getattr(conn, "conn_id", None) or DEFAULT_CONN_ID
        key = conn.password or None
        if key is None:
            raise ConfigurationError(f"connection {conn_id!r} has no API key (set its password)")
        options: dict[str, Any] = {"api_key": key}
        host = (conn.host or "").strip()
        if host:
            options["base_url"] = _base_url(host, getattr(conn, "port", None))
        policy: dict[str, float] = {}
        for name, value in _extra(conn, conn_id).items():
            spec = _EXTRAS.get(name)
            if spec is None:
                raise ConfigurationError(
                    f"connection {conn_id!r}: unknown extra setting {name!r} "
                    f"(known: {', '.join(sorted(_EXTRAS))})"
                )
            types, keyword = spec
            ok = isinstance(value, types) and (bool in types or not isinstance(value, bool))
            if ok and isinstance(value, float):
                ok = math.isfinite(value)
            if not ok and not (value is None and keyword == "requests_per_second"):
                raise ConfigurationError(f"connection {conn_id!r}: extra {name!r} has a bad value {value!r}")
            if keyword is None:
                if not value > 0:
                    raise ConfigurationError(f"connection {conn_id!r}: extra {name!r} must be > 0")
                policy["floor" if name == "poll_floor" else "maximum"] = float(value)
            else:
                options[keyword] = value
        if policy:
            options["_policy"] = policy
        return options


def _base_url(host: str, port: object) -> str:
    """The host field as a base URL: a whole URL as it is, a bare host name as https."""
    url = host if "://" in host else f"https://{host}"
    if isinstance(port, int) and port and url.count(":") < 2:
        url = f"{url.rstrip('/')}:{port}"
    return url.rstrip("/")


def _extra(conn: Any, conn_id: str) -> dict[str, Any]:
    raw = getattr(conn, "extra", None)
    if not raw:
        return {}
    try:
        extra = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ConfigurationError(f"connection {conn_id!r}: extra is not valid JSON") from None
    if not isinstance(extra, dict):
        raise ConfigurationError(f"connection {conn_id!r}: extra must be a JSON object")
    return extra


async def _async_connection(hook: YottaHook, conn_id: str) -> Any:
    """Look a connection up from a coroutine without blocking the event loop.

    Airflow 3.3.2 and later mask secrets asynchronously, so ``BaseHook.aget_connection`` is
    safe there. Before that, it masks with a synchronous call to the supervisor (which
    deadlocks when another async call is in flight), so the synchronous lookup runs in a
    worker thread instead, as Airflow's own providers do.
    """
    from airflow.sdk import Connection

    if hasattr(Connection, "aextra_dejson") and hasattr(hook, "aget_connection"):
        return await hook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(hook.get_connection)(conn_id)
