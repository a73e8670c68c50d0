"""Every script in examples/ runs offline (against its local emulator) and exits cleanly.

Each example runs as a subprocess, as a reader would run it, with ``DOS_AI_API_KEY``
removed so it can never reach the real API. Examples without an entry in ``EXPECTED`` still
run and must print something; add an entry to check what they show.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
TIMEOUT = 60

# What each example must print (substrings of stdout + stderr).
EXPECTED: dict[str, tuple[str, ...]] = {
    "live_tokens.py": ("Okay, the user asks", "The capital of France is Paris.", "tokens/s"),
    "web_service.py": ("The capital of France is Paris.", "event: done", "browser went away"),
    "fan_out.py": ("30 answers (0 failed)",),
    "errors_and_retries.py": (
        "429: RateLimitError",
        "Retrying POST /chat/completions after 429",
        "402: InsufficientCreditsError",
        "slow: APITimeoutError",
        "401: AuthenticationError",
    ),
}


def test_examples_exist() -> None:
    """The glob finds the examples this file knows about (a moved folder fails loudly)."""
    assert {p.name for p in EXAMPLES} >= set(EXPECTED)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_offline(script: Path) -> None:
    """The example exits 0, prints what it is about, and never shows a traceback."""
    result = _run(script)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert result.stdout.strip(), f"{script.name} printed nothing"
    for expected in EXPECTED.get(script.name, ()):
        assert expected in output, f"{expected!r} not in the output of {script.name}:\n{output}"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_has_a_docstring(script: Path) -> None:
    """Each example opens with a docstring saying what it shows."""
    assert script.read_text(encoding="utf-8").lstrip().startswith('"""')


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_AI_")}
    # The checkout first, so the examples import this tree even when it is not installed;
    # -W error: an unclosed session or socket in an example fails the test.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
