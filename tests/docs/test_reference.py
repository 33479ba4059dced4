"""Every public name has a docstring and a place in the API reference (docs/reference/)."""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import yotta_async
import yotta_async.testing

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (yotta_async, yotta_async.testing)
# ``::: yotta_async.Name`` (mkdocstrings) on any reference page.
_DIRECTIVE = re.compile(r"^:::\s+(?P<path>[\w.]+)\s*$", re.MULTILINE)


def _public(package: ModuleType) -> list[tuple[str, object]]:
    return [(f"{package.__name__}.{n}", getattr(package, n)) for n in package.__all__ if n != "__version__"]


PUBLIC = [item for package in PACKAGES for item in _public(package)]
_PACKAGE_OF = {f"{p.__name__}.{n}": p for p in PACKAGES for n in p.__all__}


def _own_doc(obj: object) -> str:
    """The docstring ``obj`` itself has (not one inherited, not a dataclass's generated one)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("):  # dataclass/namedtuple default
        return ""
    return doc.strip()


def _defining_module(package: ModuleType, name: str) -> ModuleType:
    """The module ``package/__init__.py`` imports ``name`` from (TYPE_CHECKING imports too)."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name == name for a in node.names):
            return importlib.import_module("." * node.level + (node.module or ""), package.__name__)
    return package


def _attribute_doc(module: ModuleType, name: str) -> str:
    """The string literal right after the top-level assignment of ``name`` in ``module``."""
    assert module.__file__ is not None
    body = ast.parse(Path(module.__file__).read_text(encoding="utf-8")).body
    for node, after in itertools.pairwise(body):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and isinstance(after, ast.Expr):
            value = after.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value.strip()
    return ""


def _members(cls: type) -> Iterator[tuple[str, object]]:
    """Public methods and properties a class defines itself (so inherited ones are not re-checked)."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            value = value.fget
        if inspect.isfunction(value):
            yield name, value


def test_the_packages_export_something() -> None:
    assert len(PUBLIC) > 30, PUBLIC


@pytest.mark.parametrize(("name", "obj"), PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_name_has_a_docstring(name: str, obj: object) -> None:
    if not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)):
        # A constant or a type alias: its docstring is the string literal after it (PEP 257
        # attribute docstring), which is what mkdocstrings shows.
        package = _PACKAGE_OF[name]
        short = name.rsplit(".", 1)[1]
        assert _attribute_doc(_defining_module(package, short), short), f"{name} has no attribute docstring"
        return
    assert _own_doc(obj), f"{name} has no docstring of its own"
    if inspect.isclass(obj) and obj.__module__.startswith("yotta_async"):
        missing = [m for m, fn in _members(obj) if not _own_doc(fn)]
        assert not missing, f"{name}: public members without a docstring: {missing}"


def test_client_pods_methods_have_docstrings() -> None:
    # client.pods is reached through a property, not an exported name: check its classes too
    # (the endpoints, and the waiters and bulk helpers it composes).
    import yotta_async.resources.pods as pods_module

    classes = [pods_module.Pods, type_of_attr(pods_module, "PodWaits"), type_of_attr(pods_module, "PodBulk")]
    missing = [
        f"{cls.__name__}.{m}"
        for top in classes
        for cls in top.__mro__
        if cls.__module__.startswith("yotta_async")
        for m, fn in _members(cls)
        if not _own_doc(fn)
    ]
    assert not missing


def test_client_resource_methods_have_docstrings() -> None:
    # client.gpu_types / .credentials / .volumes are properties too: their classes are
    # documented on docs/reference/resources.md, so every public method needs a docstring.
    from yotta_async.resources.credentials import Credentials
    from yotta_async.resources.gpu_types import GpuTypes
    from yotta_async.resources.volumes import Volumes

    missing = [
        f"{cls.__name__}.{m}"
        for top in (GpuTypes, Credentials, Volumes)
        for cls in top.__mro__
        if cls.__module__.startswith("yotta_async")
        for m, fn in _members(cls)
        if not _own_doc(fn)
    ]
    assert not missing
    reference = (ROOT / "docs" / "reference" / "resources.md").read_text(encoding="utf-8")
    for top in (GpuTypes, Credentials, Volumes):
        assert f"::: {top.__module__}.{top.__name__}" in reference, top


def type_of_attr(module: ModuleType, name: str) -> type:
    value = getattr(module, name)
    assert inspect.isclass(value), name
    return value


def test_every_public_name_is_in_the_api_reference() -> None:
    documented: set[str] = set()
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        documented |= {m["path"] for m in _DIRECTIVE.finditer(page.read_text(encoding="utf-8"))}
    missing = sorted(name for name, _ in PUBLIC if name not in documented)
    assert not missing, f"add a '::: NAME' section to a page under docs/reference/ for: {missing}"


def test_every_reference_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert [p for p in pages if p not in nav] == []


def test_the_errors_guide_shows_the_tree_from_errors_py() -> None:
    # One source of truth: the tree in yotta_async/errors.py's docstring, copied verbatim.
    import yotta_async.errors

    doc = yotta_async.errors.__doc__ or ""
    tree = doc.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    expected = "\n".join(line[4:] for line in tree.splitlines())
    guide = (ROOT / "docs" / "guide" / "errors.md").read_text()
    assert "```text\n" + expected + "\n```" in guide
    for name in ("NotFoundError", "VolumeNotFoundError", "BudgetExceededError"):
        assert name in expected
