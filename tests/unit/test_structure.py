"""The package's shape stays true: no runtime import cycles and no private reach-ins."""

from __future__ import annotations

import ast
from pathlib import Path

import yotta_async

ROOT = Path(yotta_async.__file__).parent
PACKAGE = "yotta_async"

# Private names owned by someone else that are fine to touch: Enum's sunder attributes
# (how a pseudo-member is built), os._exit (the documented hard exit) and argparse's
# subparser type (argparse exposes it only under that name).
ALLOWED = {"_name_", "_value_", "_exit", "_SubParsersAction"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


# Statements whose body may hold an import that runs (functions: when called).
BODIES = (
    ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.With, ast.AsyncWith, ast.For,
    ast.AsyncFor, ast.While,
)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import that can run: at import time or later inside a function.

    Only ``if TYPE_CHECKING:`` blocks are left out. A function-local import still runs, so
    a cycle through it is still a cycle (it only fails later, and less predictably).
    """
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, ast.If) and not _is_type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, BODIES):
                visit(node.body)

    visit(tree.body)
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    is_package = MODULES[module].name == "__init__.py"
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _edges(module: str, tree: ast.Module) -> set[str]:
    targets: set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            origin = _resolve(module, node)
            # ``from . import x`` imports the submodule x when there is one, else a name of origin.
            names = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in MODULES else origin
                     for a in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith(PACKAGE) and name != module:
                targets.add(name)
    # Importing a.b.c runs a/__init__ and a/b/__init__ first.
    for target in list(targets):
        parts = target.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent in MODULES and parent != module and not module.startswith(parent + "."):
                targets.add(parent)
    return targets


def import_graph() -> dict[str, set[str]]:
    """Each module of the package -> the package modules it imports at import time."""
    return {m: _edges(m, ast.parse(p.read_text(encoding="utf-8"))) for m, p in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in ``graph`` as a path of module names, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_no_runtime_import_cycles() -> None:
    assert find_cycle(import_graph()) is None, " -> ".join(find_cycle(import_graph()) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    # The detector itself must be able to fail.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_only_type_checking_imports_are_exempt() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from . import a\n"
        "def f():\n    from . import b\n"
    )
    assert [n.names[0].name for n in _runtime_imports(tree)] == ["TYPE_CHECKING", "b"]


def reach_ins(source: str) -> list[str]:
    """``x._name`` where ``x`` is not ``self``/``cls``, and ``from m import _name``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            name = node.attr
            dunder = name.startswith("__") and name.endswith("__")
            owner = node.value
            own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            if name.startswith("_") and not dunder and not own and name not in ALLOWED:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                # A private *module* (``from . import _protocol``) exporting plain names is fine.
                module = f"{node.module or ''}.{alias.name}".strip(".")
                if private and not any(m.endswith(module) for m in MODULES):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    return found


def test_no_module_reads_another_objects_private_names() -> None:
    found = {
        name: hits for name, path in MODULES.items()
        if (hits := reach_ins(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_reach_in_check_can_fail() -> None:
    assert reach_ins("self._ok = 1\nsession._clock()\n") == ["2: session._clock"]
    assert reach_ins("from .resources.pods import _request\n") == [
        "1: from resources.pods import _request"
    ]
    assert reach_ins("from . import _protocol\nx.__dict__\nm._value_ = 1\n") == []


def test_validation_sits_below_the_models_and_the_models_use_it() -> None:
    # One rule set: the models' own checks (ids, ints, strings) are _validation's rules, so
    # _validation must not import the models (that would be a cycle), and they must import it.
    graph = import_graph()
    assert not {m for m in graph["yotta_async._validation"] if m.startswith("yotta_async.models")}
    assert "yotta_async._validation" in graph["yotta_async.models.request"]
    assert "yotta_async._validation" in graph["yotta_async.models.status"]


def test_no_module_is_over_400_lines_in_the_group_and_its_parts() -> None:
    for name in ("_group", "_cleanup", "_failover", "_spend", "_budget", "_expiry"):
        lines = (ROOT / f"{name}.py").read_text(encoding="utf-8").count("\n")
        assert lines <= 400, f"{name}.py has {lines} lines"


def test_the_scan_covers_every_module_including_the_new_ones() -> None:
    # The reach-in and cycle checks walk MODULES: make sure it holds the merged modules.
    on_disk = {p for p in ROOT.rglob("*.py")}
    assert set(MODULES.values()) == on_disk
    for name in (
        "resources.credentials", "resources.volumes", "resources.gpu_types", "_failover", "_spend",
        "_budget", "_expiry", "_probe", "_cleanup", "contrib.airflow.operators",
        "contrib.airflow.hooks", "contrib.airflow.triggers", "testing.pytest_plugin",
        "testing._resources_app", "cli._types",
    ):
        assert f"{PACKAGE}.{name}" in MODULES, name
