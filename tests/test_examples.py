"""Every script in examples/ runs offline (against its local emulator) and exits cleanly.

Each example runs as a subprocess, as a reader would run it, with ``DOS_AI_API_KEY``
removed so it can never reach the real API. Examples without an entry in ``EXPECTED`` still
run and must print something; add an entry to check what they show.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from dosai_async.testing import DosAIEmulator, Fault

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
TIMEOUT = 60

# What each example must print (substrings of stdout + stderr).
EXPECTED: dict[str, tuple[str, ...]] = {
    "live_tokens.py": ("Okay, the user asks", "The capital of France is Paris.", "tokens/s"),
    "web_service.py": ("The capital of France is Paris.", "event: done", "browser went away"),
    "fan_out.py": ("30 answers (0 failed)",),
    "fastapi_service.py": (
        "reasoning events, then 'The capital of France is Paris.",
        "GET /chat ended with 'event: done'",
        "GET /answer: The capital of France is Paris.",
    ),
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


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_AI_")}
    # The checkout first, so the examples import this tree even when it is not installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    # -W error: an unclosed session or socket in an example fails the test.
    return subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


# -- web_service.py as a browser meets it -------------------------------------------------

QUESTION = {"q": "What is the capital of France?"}


@pytest.fixture
def thinking_model() -> Iterator[DosAIEmulator]:
    """An emulator whose model thinks slowly: its whole reply would take 20 s or more."""
    with DosAIEmulator(reasoning=True, ttft=0.05, token_interval=0.5).in_thread() as emulator:
        yield emulator


@pytest.fixture
def web_service(thinking_model: DosAIEmulator) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``web_service.py --serve --port 0`` against the emulator: its URL and its process."""
    env = _env() | {"DOS_AI_BASE_URL": thinking_model.base_url, "DOS_AI_API_KEY": "dos_sk_t"}
    process = subprocess.Popen(
        [sys.executable, "-W", "error", str(ROOT / "examples" / "web_service.py"), "--serve",
         "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("Open http://127.0.0.1:"), first + process.stderr.read()
    try:
        yield first.split()[1], process
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=TIMEOUT)


@pytest.mark.parametrize("events_read", [0, 1])
async def test_web_service_closes_upstream_when_the_browser_leaves_mid_thought(
    web_service: tuple[str, subprocess.Popen[str]],
    thinking_model: DosAIEmulator,
    events_read: int,
) -> None:
    """A browser that leaves while the model thinks (after 0 or 1 events) stops generation."""
    url, process = web_service
    async with ClientSession() as browser, browser.get(f"{url}/chat", params=QUESTION) as page:
        await _until(lambda: thinking_model.stats.in_flight == 1, "the upstream stream starts")
        for _ in range(events_read):
            assert (await page.content.readuntil(b"\n\n")).startswith(b"event: reasoning\n")
    # The tab is closed. The reply had 20 s or more to go: 5 s is a wide margin.
    await _until(lambda: thinking_model.stats.in_flight == 0, "the upstream stream closes")
    assert len(thinking_model.requests) == 1
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert "browser went away: upstream stream closed" in stdout
    assert "Traceback" not in stdout + stderr
    assert process.returncode == 0, stderr


async def test_web_service_sends_failures_for_the_page_to_show(
    web_service: tuple[str, subprocess.Popen[str]], thinking_model: DosAIEmulator
) -> None:
    """An API error reaches the browser as `event: failure` with the message, then `done`;
    the page shows failure events in its alert element."""
    url, _ = web_service
    error = {"error": {"message": "Your prompt is not allowed", "type": "invalid_request_error"}}
    thinking_model.enqueue(Fault.status(400, body=error))
    async with ClientSession() as browser:
        async with browser.get(f"{url}/chat", params=QUESTION) as stream:
            body = await stream.text()
        async with browser.get(url) as page:
            html = await page.text()
    assert body.startswith("event: failure\ndata: ")
    assert "Your prompt is not allowed" in body
    assert body.endswith("event: done\ndata: {}\n\n")
    assert 'id="failure"' in html
    assert 'role="alert"' in html
    assert 'addEventListener("failure", (e) => {\n    failure.textContent = "Error: "' in html


def test_readme_web_service_snippet_is_the_examples_code() -> None:
    """Every line of the README's web-service snippet is in examples/web_service.py, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**A web service**", 1)[1].split("**Fan-out**", 1)[0]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    example = (ROOT / "examples" / "web_service.py").read_text(encoding="utf-8")
    for block in snippet.split("\n\n\n"):  # the snippet skips code between its blocks
        assert block.strip() in example, block


async def _until(condition: Callable[[], bool], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)
