"""The house rules of docs/architecture.md, checked on the source with ``ast``.

Every ``import`` counts: at module level, under ``if TYPE_CHECKING:`` and inside functions.
A package's ``__init__`` counts as the package; ``from pkg import mod`` is an import of
``pkg.mod``. Rooms are the first name under ``dosai_async`` (``_core``, ``_client``, ...);
``LAYERS`` lists them bottom-up, and an import may only point to its own room or one below.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "dosai_async"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: The layer order, bottom-up: written once, here, and mirrored in docs/architecture.md.
#: ``__init__`` is the front door (``import dosai_async``); ``testing`` and ``cli`` sit on it.
LAYERS = (
    "_version",
    "_core",
    "_models",
    "_streaming",
    "_structured",
    "_requester",
    "_batch",
    "_resources",
    "_client",
    "types",
    "__init__",
    "testing",
    "cli",
)
#: Rooms built on the public API only: they may import the front door and each other,
#: and ``cli`` the environment variable names (one list of them, in ``_core._env``).
PUBLIC_ONLY = frozenset({"testing", "cli"})
PUBLIC_ONLY_EXCEPTIONS = frozenset({"dosai_async._core._env"})
#: Third-party libraries the package wraps, and the one module allowed to import each.
#: ``testing/`` is a server (aiohttp.web, orjson) and is exempt; ``cli/`` imports rich.
OWNERS = {
    "aiohttp": {"dosai_async._core._transport"},
    "tenacity": {"dosai_async._core._retry"},
    "cattrs": {"dosai_async._models._converter"},
    "orjson": {"dosai_async._models._converter"},
    "opentelemetry": {"dosai_async._core._telemetry"},
    "rich": {
        "dosai_async.cli",
        "dosai_async.cli._batch",
        "dosai_async.cli._chat",
        "dosai_async.cli._common",
        "dosai_async.cli._hosted",
        "dosai_async.cli._models",
    },
}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> Iterator[tuple[str, int]]:
    """Every absolute module name ``name`` imports, with the line it does it on."""
    return _imports_of_source(name, MODULES[name].read_text())


def _imports_of_source(name: str, source: str) -> Iterator[tuple[str, int]]:
    tree = ast.parse(source)
    here = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in MODULES else base), node.lineno


def _graph() -> dict[str, dict[str, int]]:
    """Module -> {imported module in the package: line}."""
    graph: dict[str, dict[str, int]] = {}
    for name in MODULES:
        edges = graph.setdefault(name, {})
        for target, line in _imports(name):
            if target in MODULES and target != name:
                edges.setdefault(target, line)
    return graph


def _room(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_layers_cover_every_room() -> None:
    """Every room of the package has a place in LAYERS (a new room must be placed)."""
    assert {_room(name) for name in MODULES} == set(LAYERS)


def test_no_import_cycles() -> None:
    """No import cycle in the package, TYPE_CHECKING and function-level imports counted."""
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_point_down_the_layers() -> None:
    """A module imports only its own room or rooms below it in LAYERS."""
    upward = [
        f"{name} (line {line}) imports {target}: {_room(name)} is below {_room(target)}"
        for name, edges in _graph().items()
        for target, line in edges.items()
        if LAYERS.index(_room(target)) > LAYERS.index(_room(name))
    ]
    assert not upward, "\n".join(upward)


def test_testing_and_cli_use_the_public_api_only() -> None:
    """testing/ and cli/ import the front door (and testing/), never a private room."""
    private = [
        f"{name} (line {line}) imports {target}"
        for name, edges in _graph().items()
        if _room(name) in PUBLIC_ONLY
        for target, line in edges.items()
        if _room(target) not in PUBLIC_ONLY | {"__init__"} and target not in PUBLIC_ONLY_EXCEPTIONS
    ]
    assert not private, "\n".join(private)


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_has_one_owner(library: str) -> None:
    """aiohttp, tenacity, cattrs and orjson are imported by their one wrapper module."""
    users = {
        name
        for name in MODULES
        if _room(name) != "testing"
        for target, _ in _imports(name)
        if target.split(".")[0] == library
    }
    assert users <= OWNERS[library], sorted(users - OWNERS[library])


def test_no_module_over_the_size_budget() -> None:
    """No module is longer than 400 lines."""
    long = {
        name: lines
        for name, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_room_docstrings_say_what_they_own_and_may_import() -> None:
    """Each room's __init__ is a docstring saying what it owns and what it may import."""
    for name in MODULES:
        if _is_package(name) and name != PACKAGE and _room(name).startswith("_"):
            tree = ast.parse(MODULES[name].read_text())
            docstring = ast.get_docstring(tree) or ""
            assert "Owns" in docstring, name
            assert "May import" in docstring, name
            assert len(tree.body) == 1, f"{name}: a room's __init__ holds its docstring only"


def test_the_scan_counts_type_checking_and_function_imports() -> None:
    """The scan sees imports under TYPE_CHECKING and inside functions (the cases it exists for)."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .._client import AsyncDosAI\n"
        "def f():\n    from .._core import _retry\n"
    )
    found = {
        target
        for target, _ in _imports_of_source("dosai_async._resources._chat", source)
        if target.startswith(PACKAGE)
    }
    assert found == {"dosai_async._client", "dosai_async._core._retry"}


def test_one_docstring_dialect() -> None:
    """Docstrings mark code with reST double backticks, never single ones or roles."""
    single = re.compile(r"(?<![`\w])`[^`\n]+`(?![`\w])")
    found = [
        f"{name}:{getattr(node, 'lineno', 1)}"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and (doc := ast.get_docstring(node, clean=False))
        and single.search(doc)
    ]
    assert not found, found


def test_architecture_doc_lists_the_layers_in_order() -> None:
    """docs/architecture.md shows LAYERS top-down, and names every room's folder."""
    doc = (ROOT.parent / "docs" / "architecture.md").read_text()
    rule = doc.split("## The layer rule", 1)[1].split("```")[1]
    listed = [line.split()[0] for line in rule.strip().splitlines()]
    assert listed == list(reversed(LAYERS))
    for name in MODULES:
        if _is_package(name) and name != PACKAGE:
            assert f"{name.split('.')[1]}/" in doc, name
