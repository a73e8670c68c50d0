"""The front door: one sorted __all__, every name importable, no private leaks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import dosai_async

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted, and every name in it exists."""
    assert dosai_async.__all__ == sorted(dosai_async.__all__)
    for name in dosai_async.__all__:
        assert hasattr(dosai_async, name), name


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    """Public name -> (relative module, name there), read from the ``if TYPE_CHECKING:``
    block of ``dosai_async/__init__.py`` (what mypy and IDEs see)."""
    tree = ast.parse((ROOT / "dosai_async" / "__init__.py").read_text())
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    found = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            found[alias.asname or alias.name] = (module, alias.name)
    return found


def test_lazy_table_type_checking_imports_and_all_agree() -> None:
    """The run-time table, the TYPE_CHECKING imports and __all__ name the same things."""
    static = _type_checking_imports()
    assert static == dosai_async._HOME_OF
    assert dosai_async.__all__ == sorted([*static, "__version__"])


def test_import_loads_nothing_heavy_until_a_name_is_used() -> None:
    """``import dosai_async`` imports no dependency and no private module; the first use of
    a name loads its module and caches the value (later reads skip ``__getattr__``)."""
    code = (
        "import sys, dosai_async\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "    {'aiohttp', 'attrs', 'cattrs', 'orjson', 'tenacity', 'asyncio'}\n"
        "    or m.startswith('dosai_async.')))\n"
        "error = dosai_async.RateLimitError\n"
        "print('RateLimitError' in vars(dosai_async), 'aiohttp' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["['dosai_async._version']", "True False"]


def test_unknown_names_and_dir() -> None:
    """A name that is not public is the usual AttributeError; ``dir()`` lists ``__all__``."""
    with pytest.raises(
        AttributeError, match=r"^module 'dosai_async' has no attribute 'AsyncDosAl'$"
    ):
        dosai_async.AsyncDosAl  # noqa: B018
    assert dir(dosai_async) == dosai_async.__all__


def test_public_names_come_from_the_package() -> None:
    """Public classes report a dosai_async module, never a third-party one."""
    for name in dosai_async.__all__:
        obj = getattr(dosai_async, name)
        if isinstance(obj, type):
            assert obj.__module__.startswith("dosai_async"), (name, obj.__module__)


def test_third_party_imports_stay_in_their_modules() -> None:
    """aiohttp, tenacity, cattrs and orjson are each imported by one module only."""
    owners = {
        "aiohttp": {"_transport.py"},
        "tenacity": {"_retry.py"},
        "cattrs": {"_converter.py"},
        "orjson": {"_converter.py"},
    }
    for library, allowed in owners.items():
        users = {
            path.name
            for path in (ROOT / "dosai_async").rglob("_*.py")
            if "testing" not in path.parts  # the emulator is a server: aiohttp.web, orjson
            if f"import {library}" in path.read_text() or f"from {library}" in path.read_text()
        }
        assert users <= allowed, (library, users)


def test_sse_decoder_is_sans_io() -> None:
    """_sse imports no HTTP, JSON or asyncio."""
    source = (ROOT / "dosai_async" / "_streaming" / "_sse.py").read_text()
    for banned in ("aiohttp", "asyncio", "json", "orjson", "socket"):
        assert f"import {banned}" not in source, banned


def test_readme_test_command_is_what_ci_runs() -> None:
    """.ci/run reads its command from the README's test-command block."""
    readme = (ROOT / "README.md").read_text()
    assert "<!-- test-command -->" in readme
    assert "test-command" in (ROOT / ".ci" / "run").read_text()


def test_mypy_strict_and_typing_contract() -> None:
    """mypy --strict passes on the package and on tests/typing (the public API in use)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "dosai_async", "tests/typing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_clean() -> None:
    """ruff check passes on the whole tree."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
