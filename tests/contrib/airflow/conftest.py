"""Fixtures for the Airflow provider tests: a real Airflow 3 with a throwaway home and sqlite DB.

These tests are collected only when Airflow is importable, so the default test command does
not report them as skipped on a machine without the ``airflow`` extra. ``.ci/airflow``
installs the extra, sets ``YOTTA_REQUIRE_AIRFLOW=1`` (a missing Airflow is then an error,
not a silent no-op) and runs this package.
"""

from __future__ import annotations

import atexit
import gc
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

if importlib.util.find_spec("airflow") is None:
    if os.environ.get("YOTTA_REQUIRE_AIRFLOW") == "1":
        raise RuntimeError("YOTTA_REQUIRE_AIRFLOW=1 but Airflow is missing: pip install -e '.[airflow]'")
    collect_ignore_glob = ["test_*.py"]
    AIRFLOW_HOME = None
else:
    # Airflow reads its configuration when first imported, so the home, the DB and the DAG
    # folder are chosen here, before any test module imports it.
    AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="yotta-airflow-home-"))
    atexit.register(shutil.rmtree, AIRFLOW_HOME, True)
    DAGS = AIRFLOW_HOME / "dags"
    DAGS.mkdir()
    os.environ.update(
        {
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        }
    )
    # Importing Airflow configures logging process-wide (root logger at INFO with a stream
    # handler, warnings routed to logging). Do it now, then put the rest of the suite's logging
    # back, so that running these tests alongside the others changes nothing for them.
    _ROOT_STATE = (logging.getLogger().level, list(logging.getLogger().handlers))
    import airflow.sdk  # noqa: F401

    # Airflow's import leaves ~150,000 long-lived objects; every full GC of the rest of the
    # session would scan them (the simulator's 10,000-pod list test got 60% slower). Freeze
    # them out of the collector, as a long-running Airflow process would.
    gc.freeze()


def _restore_logging() -> None:
    if AIRFLOW_HOME is None:
        return
    root = logging.getLogger()
    level, handlers = _ROOT_STATE
    root.setLevel(level)
    for handler in [h for h in root.handlers if h not in handlers and type(h) is logging.StreamHandler]:
        root.removeHandler(handler)
    logging.captureWarnings(False)


_restore_logging()


@pytest.fixture(autouse=True)
def _airflow_logging_stays_here() -> Iterator[None]:
    """Whatever a ``dag.test()`` configures, the tests after this one get the suite's logging back."""
    yield
    _restore_logging()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Airflow's own deprecation chatter is not ours to fix: tolerate it in this package only."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"))
            # Airflow's in-process API client (dag.test) imports starlette's test client.
            item.add_marker(pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"))


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """An initialised Airflow metadata DB (sqlite in the throwaway home); its DAG folder."""
    assert AIRFLOW_HOME is not None
    from airflow.utils import db

    db.resetdb()
    yield AIRFLOW_HOME / "dags"
    from airflow import settings

    settings.dispose_orm()


def connection_json(api_key: str, base_url: str, **extra: object) -> str:
    """An ``AIRFLOW_CONN_*`` value for a ``yotta`` connection."""
    conn: dict[str, object] = {"conn_type": "yotta", "password": api_key, "host": base_url}
    if extra:
        conn["extra"] = json.dumps(extra)
    return json.dumps(conn)
