"""Running the `dosai` command the way a user does: its entry point, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
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
