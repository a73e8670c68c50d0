"""``dosai batch`` through the real entry point: what a user sees, exit codes, Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from dosai_async.testing import DosAIEmulator
from tests._cli import ROOT, dosai, env


def write_input(path: Path, count: int, **body: Any) -> Path:
    """A Batch API input file of ``count`` requests."""
    lines = (
        json.dumps(
            {
                "custom_id": f"r{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"messages": [{"role": "user", "content": f"q{i}"}], **body},
            }
        )
        for i in range(count)
    )
    path.write_text("\n".join(lines) + "\n")
    return path


def successes(path: Path) -> Counter[str]:
    """Success lines per custom_id in an output file."""
    records = [json.loads(raw) for raw in path.read_text().splitlines()]
    return Counter(r["custom_id"] for r in records if r["error"] is None)


def test_local_run_then_rerun_does_no_work(tmp_path: Path) -> None:
    """--local runs every request with a summary; the same command again skips them all."""
    source, output = write_input(tmp_path / "in.jsonl", 300), tmp_path / "out.jsonl"
    first = dosai("batch", str(source), str(output), "--local", "--concurrency", "32")
    assert first.returncode == 0, first.stderr
    assert "all 300 requests succeeded" in first.stdout
    assert "batch" in first.stderr  # the progress display
    assert successes(output) == {f"r{i}": 1 for i in range(300)}
    again = dosai("batch", str(source), str(output), "--local")
    assert again.returncode == 0
    assert re.search(r"already done \(skipped\)\s+│\s+300\s", again.stdout), again.stdout
    assert re.search(r"HTTP requests sent\s+│\s+0\s", again.stdout), again.stdout
    assert len(output.read_text().splitlines()) == 300


def test_refused_requests_exit_1_without_promising_a_rerun_fixes_them(tmp_path: Path) -> None:
    """404s and malformed lines: exit 1, and the summary does not say re-running helps."""
    source = write_input(tmp_path / "in.jsonl", 3, model="no-such-model")
    source.write_text(source.read_text() + "not json\n")
    result = dosai("batch", str(source), str(tmp_path / "out.jsonl"), "--local")
    assert result.returncode == 1
    verdict = " ".join(result.stdout.split())
    assert "3 requests refused by the server" in verdict
    assert "1 malformed line: correct the input first" in verdict
    assert "run the same command again" not in verdict


def test_timed_out_requests_are_the_ones_a_rerun_may_fix(tmp_path: Path) -> None:
    """`--timeout` bounds each request; the summary says running again retries those."""
    source, output = write_input(tmp_path / "in.jsonl", 2), tmp_path / "out.jsonl"
    with DosAIEmulator(ttft=5.0).in_thread() as slow:
        server = {"DOS_AI_BASE_URL": slow.base_url, "DOS_AI_API_KEY": "dos_sk_test"}
        began = time.monotonic()
        result = dosai("batch", str(source), str(output), "--timeout", "0.5", **server)
        took = time.monotonic() - began
    assert result.returncode == 1, result.stderr
    verdict = " ".join(result.stdout.split())
    assert "2 requests failed on the way (network, timeout, 429 or 5xx): run the same" in verdict
    assert "refused" not in verdict
    assert took < 4.5  # the 5 s wait for a first token was not sat out


def test_a_rerun_keeps_one_error_line_per_id(tmp_path: Path) -> None:
    """Re-running a file whose request always fails leaves one line for it, not one per run."""
    source, output = write_input(tmp_path / "in.jsonl", 2, model="no-such-model"), tmp_path / "o"
    for _ in range(3):
        assert dosai("batch", str(source), str(output), "--local").returncode == 1
    ids = [json.loads(raw)["custom_id"] for raw in output.read_text().splitlines()]
    assert sorted(ids) == ["r0", "r1"]


def test_input_as_output_is_refused(tmp_path: Path) -> None:
    """The input as output (same path, symlink or hard link): exit 2, the input untouched."""
    source = write_input(tmp_path / "in.jsonl", 2)
    (tmp_path / "soft.jsonl").symlink_to(source)
    (tmp_path / "hard.jsonl").hardlink_to(source)
    before = source.read_bytes()
    for output in ("in.jsonl", "soft.jsonl", "hard.jsonl", "./sub/../in.jsonl"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        result = dosai("batch", str(source), str(tmp_path / output), "--local")
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"error: {tmp_path / output}: is the input file itself; "
            "write the results to another file"
        ]
    assert source.read_bytes() == before


def test_a_directory_as_output_is_said_in_words(tmp_path: Path) -> None:
    """An output path that is a directory: one line saying so, no errno, exit 2."""
    source = write_input(tmp_path / "in.jsonl", 1)
    result = dosai("batch", str(source), str(tmp_path), "--local")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path}: is a directory; name the output file, "
        f"e.g. {tmp_path / 'results.jsonl'}"
    ]


def test_malformed_lines_are_named_and_exit_1(tmp_path: Path) -> None:
    """Malformed lines are listed with their numbers; the rest still run."""
    source = write_input(tmp_path / "in.jsonl", 2)
    source.write_text(source.read_text() + "not json\n")
    result = dosai("batch", str(source), str(tmp_path / "out.jsonl"), "--local")
    assert result.returncode == 1
    assert "line 3: not valid JSON" in result.stdout
    assert successes(tmp_path / "out.jsonl") == {"r0": 1, "r1": 1}


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    """A missing input file: exit 2 and one error line, no output file created."""
    result = dosai("batch", str(tmp_path / "nope.jsonl"), str(tmp_path / "out.jsonl"), "--local")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nope.jsonl'}: no such input file"
    ]
    assert not (tmp_path / "out.jsonl").exists()


def test_bad_concurrency_is_a_usage_error(tmp_path: Path) -> None:
    """--concurrency 0 is refused by the argument parser (exit 2)."""
    source = write_input(tmp_path / "in.jsonl", 1)
    result = dosai("batch", str(source), str(tmp_path / "o.jsonl"), "--concurrency", "0")
    assert result.returncode == 2
    assert "must be 1 or more" in result.stderr


def test_ctrl_c_stops_prints_a_summary_and_resumes(tmp_path: Path) -> None:
    """Ctrl-C: in-flight results are written, a summary printed, exit 130; then resume."""
    source, output = write_input(tmp_path / "in.jsonl", 400), tmp_path / "out.jsonl"
    with DosAIEmulator(ttft=0.02, rate_limit=1_000_000_000).in_thread() as emulator:
        server = {"DOS_AI_BASE_URL": emulator.base_url, "DOS_AI_API_KEY": "dos_sk_test"}
        process = subprocess.Popen(
            [sys.executable, "-m", "dosai_async.cli", "batch", str(source), str(output)],
            cwd=ROOT,
            env=env(**server),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_lines(output, 50)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
        assert "Traceback" not in stderr, stderr
        assert process.returncode == 130, stderr
        assert "interrupted" in stdout
        written = successes(output)
        assert 50 <= sum(written.values()) < 400
        assert set(written.values()) == {1}
        rerun = dosai("batch", str(source), str(output), **server)
    assert rerun.returncode == 0, rerun.stderr
    assert successes(output) == {f"r{i}": 1 for i in range(400)}


def _wait_for_lines(path: Path, lines: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.005)
    raise AssertionError("the batch wrote too slowly")
