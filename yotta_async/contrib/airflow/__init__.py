"""Apache Airflow provider for yotta-async: the ``yotta`` connection, a hook, a trigger, operators.

Install with ``pip install 'yotta-async[airflow]'`` (Apache Airflow 3.x)::

    from yotta_async.contrib.airflow import YottaLaunchPodsOperator, YottaDeletePodsOperator

    launch = YottaLaunchPodsOperator(task_id="launch", count=8, name="train", image="img",
                                     gpu_type="NVIDIA_H100_80G", gpu_count=1)
    delete = YottaDeletePodsOperator(task_id="delete", pod_ids=launch.output)

Every waiting operator defers to :class:`YottaPodsTrigger`; all Yotta triggers in one
triggerer share one ``YottaClient`` per connection, hence one background poller: a thousand
deferred pod waits cost about one ``GET /v2/pods`` per tick.

The names are imported lazily, so that Airflow's provider discovery (which calls
:func:`get_provider_info` through the ``apache_airflow_provider`` entry point) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._version import __version__

if TYPE_CHECKING:
    from .hooks import YottaHook
    from .operators import YottaDeletePodsOperator, YottaLaunchPodsOperator, YottaPausePodsOperator
    from .triggers import YottaLaunchTrigger, YottaPodsTrigger

__all__ = [
    "YottaDeletePodsOperator",
    "YottaHook",
    "YottaLaunchPodsOperator",
    "YottaLaunchTrigger",
    "YottaPausePodsOperator",
    "YottaPodsTrigger",
    "get_provider_info",
]

_LAZY = {
    "YottaHook": "hooks",
    "YottaPodsTrigger": "triggers",
    "YottaLaunchTrigger": "triggers",
    "YottaLaunchPodsOperator": "operators",
    "YottaDeletePodsOperator": "operators",
    "YottaPausePodsOperator": "operators",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    try:
        loaded = import_module(f"{__name__}.{module}")
    except ImportError as exc:
        if exc.name is None or exc.name.split(".")[0] not in ("airflow", "asgiref"):
            raise
        raise ImportError(
            f"{name} needs Apache Airflow 3: pip install 'yotta-async[airflow]' ({exc})", name=exc.name
        ) from exc
    return getattr(loaded, name)


def get_provider_info() -> dict[str, Any]:
    """What Airflow's ``ProvidersManager`` reads through the ``apache_airflow_provider`` entry point.

    It registers the ``yotta`` connection type (so it appears in the UI's connection form) and
    lists the hook, operators and trigger.
    """
    pkg = __name__
    return {
        "package-name": "yotta-async",
        "name": "Yotta Labs",
        "description": "Launch, wait for, pause and delete Yotta Labs GPU pods from Airflow "
        "(deferrable; one shared poller per triggerer).",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "Yotta Labs", "external-doc-url": "https://www.yottalabs.ai/"},
        ],
        "connection-types": [
            {"connection-type": "yotta", "hook-class-name": f"{pkg}.hooks.YottaHook"},
        ],
        "hooks": [{"integration-name": "Yotta Labs", "python-modules": [f"{pkg}.hooks"]}],
        "operators": [{"integration-name": "Yotta Labs", "python-modules": [f"{pkg}.operators"]}],
        "triggers": [{"integration-name": "Yotta Labs", "python-modules": [f"{pkg}.triggers"]}],
    }
