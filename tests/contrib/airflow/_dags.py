"""Load a DAG file the way ``dag.test()`` needs it: from the configured DAG folder."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

DAG_SOURCES = Path(__file__).resolve().parent / "dags"


def load_dag(source: Path, dags_folder: Path, attr: str = "dag") -> Any:
    """Copy ``source`` into the DAG folder (``dag.test()`` serialises DAGs from there), import it,
    and return its module-level ``attr``."""
    target = dags_folder / source.name
    shutil.copyfile(source, target)
    name = f"_yotta_test_dag_{target.stem}"
    spec = importlib.util.spec_from_file_location(name, target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, attr)
