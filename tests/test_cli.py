"""The ``dosai`` command through its real entry point (``python -m dosai_async.cli``).

Every run is a subprocess: exit codes, stdout and stderr are what a user sees, and stderr
never holds a traceback. ``--local`` runs use ``DOSAI_EMULATOR_FAST=1`` (no simulated
latency); runs without it talk to an emulator served from a thread of this test process.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from dosai_async.testing import DosAIEmulator, Fault
from tests._cli import ROOT, dosai, env

QUESTION = "What is the capital of France?"
ANSWER = "The capital of France is Paris."
REASONING = "Okay, the user asks"
TIMEOUT = 30


def start(*args: str, **environ: str) -> subprocess.Popen[str]:
    """Start ``dosai ARGS`` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "dosai_async.cli", *args],
        cwd=ROOT,
        env=env(**environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line a failed run printed on stderr."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture
def emulator() -> Iterator[DosAIEmulator]:
    """An emulator (from a thread) that accepts only its own key."""
    with DosAIEmulator(api_key="dos_sk_right").in_thread() as emu:
        yield emu


def remote(emu: DosAIEmulator, key: str | None = None) -> dict[str, str]:
    """Environment variables pointing the command at ``emu``."""
    return {"DOS_AI_BASE_URL": emu.base_url, "DOS_AI_API_KEY": key or emu.api_key}


# -- chat --------------------------------------------------------------------------------


def test_chat_local_streams_answer_then_stats() -> None:
    """`chat --local`: the answer on stdout; reasoning, then the stats line on stderr."""
    result = dosai("chat", "--local", QUESTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(ANSWER)
    assert REASONING not in result.stdout  # reasoning is kept apart from the answer
    assert result.stderr.startswith(REASONING)
    stats = result.stderr.strip().splitlines()[-1]
    assert stats.startswith("TTFT ")
    assert " tokens · " in stats
    assert stats.endswith(" tokens/s")


def test_chat_hide_reasoning_shows_the_answer_only() -> None:
    """`--hide-reasoning` prints no thinking, only the answer and the stats."""
    result = dosai("chat", "--local", "--hide-reasoning", QUESTION)
    assert result.returncode == 0
    assert ANSWER in result.stdout
    assert REASONING not in result.stdout + result.stderr
    assert result.stderr.startswith("TTFT ")


def test_chat_raw_prints_one_json_chunk_per_line() -> None:
    """`--raw` prints every chunk as a JSON line, the usage chunk last."""
    result = dosai("chat", "--local", "--raw", QUESTION)
    assert result.returncode == 0
    chunks = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(chunks) > 3
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text.startswith(ANSWER)
    assert chunks[-1]["usage"]["completion_tokens"] > 0


def test_chat_sends_the_options_it_was_given(emulator: DosAIEmulator) -> None:
    """Model, system prompt, temperature, max tokens and --no-reasoning reach the server."""
    result = dosai(
        "chat", QUESTION, "--model", "dos-auto", "--system", "Be brief.",
        "--temperature", "0.3", "--max-tokens", "50", "--no-reasoning",
        **remote(emulator),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = emulator.requests[-1].body
    assert body["model"] == "dos-auto"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": QUESTION},
    ]
    assert (body["temperature"], body["max_tokens"]) == (0.3, 50)
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_chat_sends_only_what_was_set(emulator: DosAIEmulator) -> None:
    """Unset options are not sent, so the server's defaults apply; --think turns thinking on."""
    assert dosai("chat", "hi", "--think", **remote(emulator)).returncode == 0
    body = emulator.requests[-1].body
    assert body.keys() == {"model", "messages", "stream", "stream_options", "chat_template_kwargs"}
    assert body["chat_template_kwargs"] == {"enable_thinking": True}


def test_chat_error_mid_stream_ends_the_line_first(emulator: DosAIEmulator) -> None:
    """An error after some tokens: the partial answer, then one error line, exit 1."""
    emulator.enqueue(Fault.stream_error(after_events=4, message="GPU fell over"))
    result = dosai("chat", QUESTION, "--no-reasoning", **remote(emulator))
    assert result.returncode == 1
    assert result.stdout.endswith("\n")  # the partial answer's line was ended
    assert result.stdout.strip()
    assert "GPU fell over" in one_error_line(result)


def test_chat_ctrl_c_exits_130_without_traceback() -> None:
    """SIGINT while tokens stream: 'interrupted', exit code 130, no traceback."""
    process = start("chat", "--local", QUESTION, DOSAI_EMULATOR_FAST="0")
    assert process.stderr is not None
    process.stderr.read(1)  # the first reasoning token arrived: the stream is live
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert stderr.rstrip().endswith("interrupted")


def test_chat_raw_hide_reasoning_prints_no_reasoning() -> None:
    """`--raw --hide-reasoning`: no reasoning field in any line, and no reasoning-only lines."""
    result = dosai("chat", "--local", "--raw", "--hide-reasoning", QUESTION)
    assert result.returncode == 0
    assert REASONING not in result.stdout
    chunks = [json.loads(line) for line in result.stdout.splitlines()]
    deltas = [c["delta"] for chunk in chunks for c in chunk["choices"]]
    assert not [d for d in deltas if "reasoning" in d or "reasoning_content" in d]
    text = "".join(d.get("content", "") for d in deltas)
    assert text.startswith(ANSWER)
    for chunk in chunks:  # each line still says something
        said = [c for c in chunk["choices"] if c["delta"] or c.get("finish_reason")]
        assert said or chunk.get("usage"), chunk


@pytest.mark.parametrize("command", ["chat", "models"])
def test_timeout_ends_a_slow_call_with_one_line(command: str) -> None:
    """`--timeout 0.5` against a server that waits 5 s: one timeout line, exit 1, early."""
    with DosAIEmulator().in_thread() as slow:
        route = "chat" if command == "chat" else "models"
        slow.enqueue(Fault.stall_before_headers(5.0), route=route)
        args = [command, "hi"] if command == "chat" else [command]
        began = time.monotonic()
        result = dosai(*args, "--timeout", "0.5", **remote(slow))
        took = time.monotonic() - began
    assert result.returncode == 1
    assert one_error_line(result).endswith("allow it longer with --timeout SECONDS")
    assert took < 4.5  # the 5 s stall was not waited out (interpreter start-up included)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
@pytest.mark.parametrize("command", ["chat", "models", "batch"])
def test_timeout_must_be_positive_seconds(command: str, value: str) -> None:
    """A --timeout that is not a number of seconds above 0 is a usage error naming it."""
    args = {"chat": ["chat", "hi"], "models": ["models"], "batch": ["batch", "i", "o"]}[command]
    result = dosai(*args, "--timeout", value, "--local")
    assert result.returncode == 2
    assert "argument --timeout" in result.stderr.strip().splitlines()[-1]


# -- models ------------------------------------------------------------------------------


def test_models_local_prints_a_table() -> None:
    """`models --local` lists the emulator's models with their context length."""
    result = dosai("models", "--local")
    assert result.returncode == 0
    assert "dos-ai" in result.stdout
    assert "dos-auto" in result.stdout
    assert "262,144" in result.stdout


def test_models_json() -> None:
    """`models --json` prints the list as JSON."""
    result = dosai("models", "--local", "--json")
    assert result.returncode == 0
    assert [model["id"] for model in json.loads(result.stdout)] == [
        "dos-ai",
        "dos-auto",
        "qwen3-embedding-4b",
    ]


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["chat", "models"])
def test_missing_key_names_the_variable(command: str) -> None:
    """Without DOS_AI_API_KEY: one line naming it and suggesting --local, exit 2."""
    args = [command, "hi"] if command == "chat" else [command]
    result = dosai(*args)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "DOS_AI_API_KEY" in line
    assert "--local" in line


def test_wrong_key_is_one_line_401(emulator: DosAIEmulator) -> None:
    """A rejected key: `error: 401 ...`, a hint to check the key, exit 1."""
    result = dosai("chat", "hi", **remote(emulator, key="dos_sk_wrong"))
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("error: 401 authentication_error: Invalid API key")
    assert "DOS_AI_API_KEY" in line


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.status(402), "error: 402 payment_required: "),
        (Fault.status(429, retry_after=0), "error: 429 rate_limit_error: "),
        (Fault.status(503), "error: 503 "),
    ],
    ids=["402", "429", "503"],
)
@pytest.mark.parametrize("command", ["chat", "models"])
def test_api_error_is_one_line(
    emulator: DosAIEmulator, command: str, fault: Fault, expected: str
) -> None:
    """402, 429 (after the retries) and 503 end as one `error:` line with exit code 1."""
    route = "chat" if command == "chat" else "models"
    emulator.enqueue(fault, route=route, times=3)  # the first try and both retries
    args = [command, "hi"] if command == "chat" else [command]
    result = dosai(*args, **remote(emulator))
    assert result.returncode == 1
    assert one_error_line(result).startswith(expected)


def test_unknown_model_is_one_line_404(emulator: DosAIEmulator) -> None:
    """`--model nope`: the server's 404 as one line."""
    result = dosai("chat", "hi", "--model", "nope", **remote(emulator))
    assert result.returncode == 1
    assert one_error_line(result).startswith("error: 404 ")


def test_no_network_is_one_line_naming_the_url() -> None:
    """Nothing listening at the base URL: one line with the URL, exit 1."""
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    result = dosai("models", DOS_AI_BASE_URL=url, DOS_AI_API_KEY="dos_sk_x")
    assert result.returncode == 1
    line = one_error_line(result)
    assert url in line
    assert "Connection failed" in line


def test_bad_base_url_is_a_usage_error() -> None:
    """A malformed DOS_AI_BASE_URL: one line, exit 2."""
    result = dosai("models", DOS_AI_BASE_URL="ftp://example.com", DOS_AI_API_KEY="dos_sk_x")
    assert result.returncode == 2
    assert "base_url" in one_error_line(result)


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("chat",),
        ("chat", "hi", "--temperature", "warm"),
        ("chat", "hi", "--think", "--no-reasoning"),
    ],
    ids=["no-command", "no-prompt", "bad-number", "exclusive-flags"],
)
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    """Usage mistakes print argparse's usage message and exit 2."""
    result = dosai(*args)
    assert result.returncode == 2
    assert "usage: dosai" in result.stderr


def test_without_rich_one_line_says_how_to_install() -> None:
    """Without the `cli` extra, the command says `pip install "dosai-async[cli]"`."""
    code = (
        "import sys; sys.modules['rich'] = None\n"  # as if rich were not installed
        "from dosai_async.cli import main\n"
        "raise SystemExit(main(['models', '--local']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert 'pip install "dosai-async[cli]"' in one_error_line(result)


def test_importing_the_package_or_cli_does_not_import_rich() -> None:
    """rich is imported only when a subcommand prints with it."""
    code = "import sys, dosai_async, dosai_async.cli; print('rich' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True,
        timeout=TIMEOUT, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "False"


# -- serve -------------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`dosai serve --port 0` in the background, and the base URL it printed."""
    process = start("serve", "--port", "0")
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "listening on http://127.0.0.1:" in first, first
    url = first.split("listening on ")[1].split()[0]
    try:
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)


def test_serve_works_with_the_sync_openai_sdk(served: tuple[subprocess.Popen[str], str]) -> None:
    """The official sync `openai` client completes and streams against `dosai serve`."""
    _, url = served
    with openai.OpenAI(base_url=url, api_key="anything", max_retries=0) as client:
        done = client.chat.completions.create(model="dos-ai", messages=_question())
        assert (done.choices[0].message.content or "").startswith(ANSWER)
        with client.chat.completions.create(
            model="dos-ai", messages=_question(), stream=True
        ) as stream:
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text.startswith(ANSWER)


async def test_serve_works_with_async_openai_sdk(served: tuple[subprocess.Popen[str], str]) -> None:
    """The official `AsyncOpenAI` client completes and streams against `dosai serve`."""
    _, url = served
    async with openai.AsyncOpenAI(base_url=url, api_key="anything", max_retries=0) as client:
        done = await client.chat.completions.create(model="dos-ai", messages=_question())
        assert (done.choices[0].message.content or "").startswith(ANSWER)
        stream = await client.chat.completions.create(
            model="dos-ai", messages=_question(), stream=True
        )
        async with stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text.startswith(ANSWER)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_signal(
    served: tuple[subprocess.Popen[str], str], sig: signal.Signals
) -> None:
    """Ctrl-C (or SIGTERM) stops the server with exit code 0 and no traceback."""
    process, _ = served
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.strip() == "stopped"


def test_serve_checks_the_key_it_was_given() -> None:
    """`serve --api-key K` answers 401 to other keys, as the real API does."""
    process = start("serve", "--port", "0", "--api-key", "dos_sk_mine")
    assert process.stdout is not None
    url = process.stdout.readline().split("listening on ")[1].split()[0]
    try:
        bad = dosai("models", DOS_AI_BASE_URL=url, DOS_AI_API_KEY="dos_sk_other")
        good = dosai("models", DOS_AI_BASE_URL=url, DOS_AI_API_KEY="dos_sk_mine")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=TIMEOUT)
    assert one_error_line(bad).startswith("error: 401 ")
    assert good.returncode == 0


def test_serve_on_a_taken_port_is_one_line() -> None:
    """A port already in use: one `error:` line, exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = dosai("serve", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1
    assert "address already in use" in one_error_line(result).lower()


def test_serve_bad_port_is_a_usage_error() -> None:
    """`--port 99999`: argparse's usage and one error line naming the range, exit 2."""
    result = dosai("serve", "--port", "99999")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "dosai serve: error: argument --port: must be a port from 0 to 65535, not 99999"
    )


# Ctrl-C at a precise moment of start-up: an audit hook sends SIGINT to the process itself
# when the named event first happens (the import of a module, the socket's bind). The hook
# is in place before `dosai_async.cli` is imported, as the `dosai` script imports it.
_SIGINT_AT = """
import os, signal, sys
def hook(event, args, fired=[]):
    if not fired and event == sys.argv[1] and (event != "import" or args[0] == sys.argv[2]):
        fired.append(True)
        os.kill(os.getpid(), signal.SIGINT)
sys.addaudithook(hook)
from dosai_async.cli import main
raise SystemExit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize(
    ("event", "command"),
    [
        (("import", "aiohttp"), ("serve", "--port", "0")),
        (("import", "dosai_async.testing"), ("serve", "--port", "0")),
        (("socket.bind", ""), ("serve", "--port", "0")),
        (("import", "aiohttp"), ("chat", "--local", "hi")),
        (("import", "cattrs"), ("chat", "--local", "hi")),
    ],
    ids=["serve-aiohttp", "serve-import", "serve-bind", "chat-aiohttp", "chat-cattrs"],
)
def test_ctrl_c_while_starting_is_one_line_and_130(
    event: tuple[str, str], command: tuple[str, ...]
) -> None:
    """Ctrl-C while the command starts (loading the SDK, the emulator, binding): one
    `interrupted` line, exit 130, no output, no traceback."""
    result = subprocess.run(
        [sys.executable, "-c", _SIGINT_AT, *event, *command], cwd=ROOT, env=env(),
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines() == ["interrupted"]
    assert result.stdout == ""


def _question() -> Any:
    return [{"role": "user", "content": QUESTION}]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_file_errors_are_said_in_words() -> None:
    """An OSError from a file is `path: reason`, without `[Errno N]`."""
    from dosai_async.cli._main import _os_error

    assert _os_error(IsADirectoryError(21, "Is a directory", "out.jsonl")) == (
        "out.jsonl: Is a directory"
    )
    assert _os_error(OSError("no errno here")) == "no errno here"
