"""Running the `dosai` command the way a user does: its entry point, in a subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def env(**overrides: str) -> dict[str, str]:
    """A run's environment: none of the developer's DOS AI settings, no colours, and the
    `--local` emulator without its demo latency."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DOS_AI_")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")]))
    fixed = {"NO_COLOR": "1", "COLUMNS": "200", "DOSAI_EMULATOR_FAST": "1"}
    return base | fixed | overrides


def dosai(*args: str, timeout: float = 60, **environ: str) -> subprocess.CompletedProcess[str]:
    """``dosai ARGS`` to completion; neither stream ever shows a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "dosai_async.cli", *args],
        cwd=ROOT,
        env=env(**environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


@contextlib.contextmanager
def dosai_serve(timeout: float = 30, *args: str) -> Iterator[str]:
    """``dosai serve --port 0 ARGS`` in the background, as a user starts it; the base URL
    it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dosai_async.cli", "serve", "--port", "0", *args],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "listening on http://127.0.0.1:" in first, first
    try:
        yield first.split("listening on ")[1].split()[0]
    finally:
        process.kill()
        process.communicate(timeout=timeout)
