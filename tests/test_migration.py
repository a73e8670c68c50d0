"""Moving from ``openai`` is a rename: three programs written for ``AsyncOpenAI``, run as is
through the official SDK and, renamed, through this one, print the same thing.

``tests/migration/openai_*.py`` are written as an openai user writes them (fan-out over
``with_raw_response``, a FastAPI relay with ``with_options`` and ``model_dump_json()``, a
tool loop with pydantic models and ``parse()``). ``tests/migration/dosai_*.py`` are the
same files after ``RENAME`` and nothing else. Each copy runs as a subprocess against its own
``dosai serve --port 0`` (a fresh server, so rate-limit headers count from the same start).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests._cli import ROOT, env

HERE = ROOT / "tests" / "migration"
PROGRAMS = ("fan_out", "fastapi_relay", "tool_loop")
TIMEOUT = 90

# The whole migration, applied in this order with str.replace (docs/migration.md shows it).
RENAME = (
    ("AsyncOpenAI", "AsyncDosAI"),
    ("OPENAI_", "DOS_AI_"),
    ("openai.types.chat", "dosai_async.types"),
    ("openai", "dosai_async"),
)


def rename(source: str) -> str:
    """``source`` with every pair of ``RENAME`` applied."""
    for old, new in RENAME:
        source = source.replace(old, new)
    return source


@pytest.mark.parametrize("program", PROGRAMS)
def test_the_dosai_copy_is_the_openai_program_renamed(program: str) -> None:
    """Byte for byte: the two copies differ only by the rename."""
    original = (HERE / f"openai_{program}.py").read_text(encoding="utf-8")
    assert "openai" in original
    assert rename(original) == (HERE / f"dosai_{program}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("program", PROGRAMS)
def test_both_copies_print_the_same(program: str) -> None:
    """The openai copy through the official SDK, the renamed one through this SDK: the same
    stdout, and each the stdout the program is about."""
    theirs = _run(HERE / f"openai_{program}.py", "OPENAI_")
    ours = _run(HERE / f"dosai_{program}.py", "DOS_AI_")
    assert ours == theirs
    assert EXPECTED[program] in ours, ours


EXPECTED = {
    "fan_out": "request ids: 40 distinct of 40\nrate limit: ['300'], remaining 260..299\n",
    "fastapi_relay": "stream usage: 37\nsame text: True\n",
    "tool_loop": "round 2: answer TripPlan {'city': 'Lisbon'",
}


def _run(program: Path, prefix: str) -> str:
    with _served() as url:
        # No OPENAI_* or DOS_AI_* setting of the developer's leaks in: only the server's.
        base = {k: v for k, v in env().items() if not k.startswith("OPENAI_")}
        environ = base | {f"{prefix}BASE_URL": url, f"{prefix}API_KEY": "dos_sk_migration"}
        result = subprocess.run(
            [sys.executable, "-W", "error", str(program)],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    return result.stdout


@contextmanager
def _served() -> Iterator[str]:
    """``dosai serve --port 0`` for one run; its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dosai_async.cli", "serve", "--port", "0"],
        cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in first, first
        yield first.split("listening on ")[1].split()[0]
    finally:
        process.terminate()
        process.communicate(timeout=TIMEOUT)
