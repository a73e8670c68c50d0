"""``dosai batch IN OUT --hosted``; the official ``openai`` SDK's batch flow on ``dosai serve``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from dosai_async.testing import DosAIEmulator
from tests._cli import ROOT, dosai, dosai_serve, env

TIMEOUT = 60


def write_input(path: Path, count: int) -> None:
    """``count`` chat request lines."""
    body = {"model": "dos-ai", "messages": [{"role": "user", "content": "hi"}]}
    path.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": f"r{i}",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": body,
                }
            )
            + "\n"
            for i in range(count)
        )
    )


def custom_ids(path: Path) -> list[str]:
    """The custom_id of every line of a results file, in file order."""
    return [json.loads(raw)["custom_id"] for raw in path.read_text().splitlines()]


def test_hosted_local_writes_one_result_per_line(tmp_path: Path) -> None:
    """--hosted --local on 1,000 lines: 1,000 results, each custom_id once, exit 0."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source, 1000)
    result = dosai(
        "batch", str(source), str(target), "--hosted", "--local", "--poll-interval", "0.05"
    )
    assert result.returncode == 0, result.stderr
    assert sorted(custom_ids(target)) == sorted(f"r{i}" for i in range(1000))
    assert "all 1,000 requests succeeded" in result.stdout
    assert "batch batch_" in result.stderr  # the id, for the user to find the batch


def test_killed_run_reattaches_instead_of_resubmitting(tmp_path: Path) -> None:
    """SIGKILL mid-poll, then the same command: one batch on the server, every result once."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source, 300)
    state = tmp_path / "out.jsonl.batch.json"
    with DosAIEmulator(batch_interval=0.005, rate_limit=1_000_000_000).in_thread() as emu:
        remote = {"DOS_AI_BASE_URL": emu.base_url, "DOS_AI_API_KEY": emu.api_key}
        args = ["batch", str(source), str(target), "--hosted", "--poll-interval", "0.05"]
        _kill_once_submitted(args, remote, state)
        assert not target.exists()  # killed before the batch was done
        again = dosai(*args, **remote)
        assert again.returncode == 0, again.stderr
        assert len(emu.batches) == 1
    assert "re-attached │ yes" in again.stdout
    assert sorted(custom_ids(target)) == sorted(f"r{i}" for i in range(300))
    assert not state.exists()


def test_state_file_of_another_input_is_one_clear_error(tmp_path: Path) -> None:
    """A state file for a different input: one error line, exit 1, nothing submitted."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source, 3)
    (tmp_path / "out.jsonl.batch.json").write_text('{"batch_id": "b", "fingerprint": "x"}')
    result = dosai("batch", str(source), str(target), "--hosted", "--local")
    assert result.returncode == 1
    assert "different input" in result.stderr
    assert not target.exists()


def _wait_for(condition: object, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not (callable(condition) and condition()):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.fixture
def served() -> Iterator[str]:
    """``dosai serve --port 0`` in the background; its base URL."""
    with dosai_serve(TIMEOUT) as url:
        yield url


def test_openai_sdk_upload_batch_poll_download_on_dosai_serve(served: str, tmp_path: Path) -> None:
    """The official openai client: upload, create, poll and download against dosai serve."""
    source = tmp_path / "in.jsonl"
    write_input(source, 5)
    with openai.OpenAI(base_url=served, api_key="anything", max_retries=0) as client:
        with source.open("rb") as handle:
            uploaded = client.files.create(file=handle, purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
        )
        deadline = time.monotonic() + TIMEOUT
        while batch.status not in ("completed", "failed", "expired", "cancelled"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
            batch = client.batches.retrieve(batch.id)
        assert batch.status == "completed"
        assert batch.request_counts is not None
        assert batch.request_counts.completed == 5
        assert batch.output_file_id is not None
        client.files.content(batch.output_file_id).write_to_file(tmp_path / "out.jsonl")
    assert sorted(custom_ids(tmp_path / "out.jsonl")) == [f"r{i}" for i in range(5)]


def test_cancel_stops_the_batch_a_killed_run_left(tmp_path: Path) -> None:
    """--cancel: the batch named by OUT.batch.json ends cancelled (openai sees it so), the
    state file is gone, and a second --cancel says there is nothing to cancel."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source, 50)
    state = tmp_path / "out.jsonl.batch.json"
    with dosai_serve(TIMEOUT, "--batch-interval", "0.2") as url:
        remote = {"DOS_AI_BASE_URL": url, "DOS_AI_API_KEY": "dos_sk_anything"}
        args = ["batch", str(source), str(target), "--hosted", "--poll-interval", "0.05"]
        _kill_once_submitted(args, remote, state)
        batch_id = json.loads(state.read_text())["batch_id"]
        cancelled = dosai(*args, "--cancel", **remote)
        with openai.OpenAI(base_url=url, api_key="anything", max_retries=0) as client:
            status = client.batches.retrieve(batch_id).status
        again = dosai(*args, "--cancel", **remote)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"batch {batch_id} cancelled (" in cancelled.stdout
    assert f"batch {batch_id}: cancelling" in cancelled.stderr
    assert status == "cancelled"
    assert not state.exists()
    assert not target.exists()
    assert again.returncode == 0, again.stderr
    assert "nothing to cancel: no hosted batch is pending" in again.stdout


def test_cancel_of_a_finished_batch_leaves_it_be(served: str, tmp_path: Path) -> None:
    """A batch that completed before --cancel stays completed; the state file goes."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source, 2)
    with openai.OpenAI(base_url=served, api_key="anything", max_retries=0) as client:
        uploaded = client.files.create(file=source.read_bytes(), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        deadline = time.monotonic() + TIMEOUT
        while client.batches.retrieve(batch.id).status != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    state = tmp_path / "out.jsonl.batch.json"
    state.write_text(json.dumps({"batch_id": batch.id, "fingerprint": "sha256:x"}))
    remote = {"DOS_AI_BASE_URL": served, "DOS_AI_API_KEY": "dos_sk_anything"}
    result = dosai("batch", str(source), str(target), "--hosted", "--cancel", **remote)
    assert result.returncode == 0, result.stderr
    assert f"batch {batch.id} had already completed: nothing to cancel" in result.stdout
    assert not state.exists()


def test_cancel_of_an_unknown_batch_is_one_clear_error(served: str, tmp_path: Path) -> None:
    """A state file naming a batch the server does not know: exit 1, the file kept."""
    state = tmp_path / "out.jsonl.batch.json"
    state.write_text('{"batch_id": "batch_gone", "fingerprint": "x"}')
    remote = {"DOS_AI_BASE_URL": served, "DOS_AI_API_KEY": "dos_sk_anything"}
    result = dosai(
        "batch", "in.jsonl", str(tmp_path / "out.jsonl"), "--hosted", "--cancel", **remote
    )
    assert result.returncode == 1
    assert "names batch batch_gone, which the server does not know" in result.stderr
    assert state.exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--cancel"], "add --hosted"), (["--hosted", "--local", "--cancel"], "nothing to cancel")],
)
def test_cancel_usage_errors(flags: list[str], message: str, tmp_path: Path) -> None:
    """--cancel needs --hosted, and a --local batch has nothing left to cancel: exit 2."""
    result = dosai("batch", "in.jsonl", str(tmp_path / "out.jsonl"), *flags)
    assert result.returncode == 2
    assert message in result.stderr


def _kill_once_submitted(args: list[str], remote: dict[str, str], state: Path) -> None:
    """Run ``dosai ARGS`` and SIGKILL it as soon as its state file exists (batch created)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dosai_async.cli", *args],
        cwd=ROOT,
        env=env(**remote),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(state.exists, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT)
