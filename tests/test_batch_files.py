"""Batch API JSONL files: format, malformed lines, resume, SIGKILL safety, stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest

from dosai_async import AsyncDosAI, DosAIError, RetryPolicy
from dosai_async._batch._fanout import held_at_most
from dosai_async._batch._files import BatchProgress, run_batch_file
from dosai_async.testing import DosAIEmulator, Fault

ROOT = Path(__file__).resolve().parents[1]


def line(custom_id: str, **body: Any) -> dict[str, Any]:
    """One Batch API input line (as data)."""
    body = {"model": "dos-ai", "messages": [{"role": "user", "content": custom_id}], **body}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def write_input(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """Write lines (dicts as JSON, strings verbatim) to a JSONL file."""
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines)
    path.write_text(text)
    return path


def read_output(path: Path) -> list[dict[str, Any]]:
    """Every output line, parsed (each must be whole JSON)."""
    return [json.loads(raw) for raw in path.read_text().splitlines()]


def ok_ids(records: list[dict[str, Any]]) -> Counter[str]:
    """How many success lines each custom_id has."""
    return Counter(r["custom_id"] for r in records if r["error"] is None)


@pytest.fixture
async def client(emulator: DosAIEmulator) -> AsyncIterator[AsyncDosAI]:
    """A client for the emulator that retries without sleeping."""
    async with AsyncDosAI(
        api_key="dos_sk_test", base_url=emulator.base_url, retry=RetryPolicy.zero_wait()
    ) as c:
        yield c


async def test_output_lines_follow_the_batch_api_format(client: AsyncDosAI, tmp_path: Path) -> None:
    """Success and failure lines carry id, custom_id, response and error as OpenAI's do."""
    source = write_input(tmp_path / "in.jsonl", [line("a"), line("b", model="no-such-model")])
    summary = await run_batch_file(client, source, tmp_path / "out.jsonl")
    good, bad = sorted(read_output(tmp_path / "out.jsonl"), key=lambda r: r["custom_id"])
    assert set(good) == {"id", "custom_id", "response", "error"}
    assert good["id"].startswith("batch_req_")
    assert good["error"] is None
    response = good["response"]
    assert response["status_code"] == 200
    assert response["body"]["object"] == "chat.completion"
    assert response["body"]["choices"][0]["message"]["content"]
    assert bad["response"]["status_code"] == 404
    assert bad["response"]["body"]["error"]["code"] == "model_not_found"
    assert bad["error"] == {"code": "model_not_found", "message": bad["error"]["message"]}
    assert (summary.succeeded, summary.failed, summary.ok) == (1, 1, False)


async def test_request_ids_are_the_servers(client: AsyncDosAI, tmp_path: Path) -> None:
    """response.request_id is the x-request-id the server sent (the emulator's are hex)."""
    source = write_input(tmp_path / "in.jsonl", [line("a")])
    await run_batch_file(client, source, tmp_path / "out.jsonl")
    [record] = read_output(tmp_path / "out.jsonl")
    assert len(record["response"]["request_id"]) == 32


async def test_body_fields_the_sdk_does_not_model_are_sent(
    client: AsyncDosAI, emulator: DosAIEmulator, tmp_path: Path
) -> None:
    """Unknown body keys go out as they are (extra_body), known ones as parameters."""
    source = write_input(tmp_path / "in.jsonl", [line("a", temperature=0.2, guided_choice=["x"])])
    await run_batch_file(client, source, tmp_path / "out.jsonl")
    sent = emulator.requests[0].body
    assert sent["temperature"] == 0.2
    assert sent["guided_choice"] == ["x"]


async def test_malformed_lines_are_reported_and_do_not_stop_the_batch(
    client: AsyncDosAI, tmp_path: Path
) -> None:
    """Each malformed line is named by number and reason; the good lines all run."""
    source = write_input(
        tmp_path / "in.jsonl",
        [
            line("one"),
            "this is not json",
            "[1, 2]",
            {**line("x"), "custom_id": 5},
            line("two"),
            line("one"),
            {**line("get"), "method": "GET"},
            {**line("emb"), "url": "/v1/embeddings"},
            {**line("nomsg"), "body": {"model": "dos-ai"}},
            line("streamed", stream=True),
            "",
            line("three"),
        ],
    )
    summary = await run_batch_file(client, source, tmp_path / "out.jsonl")
    reasons = {bad.line: bad.reason for bad in summary.invalid_lines}
    assert sorted(reasons) == [2, 3, 4, 6, 7, 8, 9, 10]
    assert "JSON" in reasons[2]
    assert "object" in reasons[3]
    assert "custom_id" in reasons[4]
    assert "duplicate" in reasons[6]
    assert "line 1" in reasons[6]
    assert "method" in reasons[7]
    assert "url" in reasons[8]
    assert "messages" in reasons[9]
    assert "stream" in reasons[10]
    assert (summary.succeeded, summary.invalid, summary.total) == (3, 8, 11)
    records = read_output(tmp_path / "out.jsonl")
    assert ok_ids(records) == {"one": 1, "two": 1, "three": 1}
    errors = {r["custom_id"]: r["error"] for r in records if r["error"] is not None}
    assert set(errors) == {"get", "emb", "nomsg", "streamed"}  # the ones with a usable id
    assert errors["get"]["code"] == "invalid_request"
    assert errors["get"]["message"].startswith("line 7: ")


async def test_a_rerun_does_no_work(
    client: AsyncDosAI, emulator: DosAIEmulator, tmp_path: Path
) -> None:
    """Running again with the same output skips everything and sends nothing."""
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(30)])
    await run_batch_file(client, source, tmp_path / "out.jsonl")
    emulator.clear()
    summary = await run_batch_file(client, source, tmp_path / "out.jsonl")
    assert (summary.skipped, summary.succeeded, summary.requests, summary.ok) == (30, 0, 0, True)
    assert emulator.stats.total == 0
    assert len(read_output(tmp_path / "out.jsonl")) == 30


async def test_resume_retries_failed_items_and_the_last_line_wins(
    client: AsyncDosAI, emulator: DosAIEmulator, tmp_path: Path
) -> None:
    """Items that failed are re-sent on the next run; their success line replaces the error."""
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(10)])
    emulator.enqueue(Fault.status(400), times=3)
    first = await run_batch_file(client, source, tmp_path / "out.jsonl", concurrency=1)
    assert (first.succeeded, first.failed, first.transient) == (7, 3, 0)
    emulator.clear()
    second = await run_batch_file(client, source, tmp_path / "out.jsonl")
    assert (second.skipped, second.succeeded, second.ok) == (7, 3, True)
    assert emulator.stats.total == 3
    records = read_output(tmp_path / "out.jsonl")
    assert len(records) == 10
    assert ok_ids(records) == {f"r{i}": 1 for i in range(10)}


async def test_reruns_keep_one_line_per_failed_id(
    client: AsyncDosAI, emulator: DosAIEmulator, tmp_path: Path
) -> None:
    """A request that fails on every run keeps one error line, the latest, not one per run."""
    source = write_input(tmp_path / "in.jsonl", [line("ok"), line("bad", model="nope")])
    output = tmp_path / "out.jsonl"
    for _ in range(3):
        summary = await run_batch_file(client, source, output)
        assert (summary.failed, summary.transient) == (1, 0)
    records = read_output(output)
    assert sorted(r["custom_id"] for r in records) == ["bad", "ok"]
    assert emulator.stats.total == 4  # both once, then "bad" on each re-run


async def test_an_output_with_repeated_ids_is_compacted_in_place_of_its_symlink(
    client: AsyncDosAI, tmp_path: Path
) -> None:
    """Lines repeated by an older run go; a symlinked output stays a symlink to the file."""
    source = write_input(tmp_path / "in.jsonl", [line("a"), line("b")])
    real, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    await run_batch_file(client, source, real)
    first = real.read_text().splitlines()
    stale = json.dumps({"custom_id": "a", "response": None, "error": {"code": "x"}})
    real.write_text("\n".join([stale, *first, "a stray note"]) + "\n")
    link.symlink_to(real)
    summary = await run_batch_file(client, source, link)
    assert summary.skipped == 2
    assert link.is_symlink()
    assert real.read_text().splitlines() == [*first, "a stray note"]


async def test_the_input_cannot_be_the_output(client: AsyncDosAI, tmp_path: Path) -> None:
    """The same file, or a hard link to it, as output is refused before anything is written."""
    source = write_input(tmp_path / "in.jsonl", [line("a")])
    os.link(source, tmp_path / "hard.jsonl")
    before = source.read_bytes()
    for output in (source, tmp_path / "hard.jsonl"):
        with pytest.raises(ValueError, match="is the input file itself"):
            await run_batch_file(client, source, output)
    assert source.read_bytes() == before


async def test_a_torn_last_line_is_cut_before_resuming(client: AsyncDosAI, tmp_path: Path) -> None:
    """A kill mid-write leaves half a line: the next run removes it and redoes that item."""
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(12)])
    output = tmp_path / "out.jsonl"
    await run_batch_file(client, source, output)
    data = output.read_bytes()
    cut = data.rfind(b"\n", 0, len(data) - 1) + 40  # 40 bytes into the last line
    output.write_bytes(data[:cut])
    summary = await run_batch_file(client, source, output)
    assert (summary.skipped, summary.succeeded) == (11, 1)
    records = read_output(output)
    assert len(records) == 12
    assert ok_ids(records) == {f"r{i}": 1 for i in range(12)}


async def test_a_last_line_missing_only_its_newline_is_kept(
    client: AsyncDosAI, emulator: DosAIEmulator, tmp_path: Path
) -> None:
    """A whole record without its newline is a finished result: kept, not redone."""
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(3)])
    output = tmp_path / "out.jsonl"
    await run_batch_file(client, source, output)
    output.write_bytes(output.read_bytes().rstrip(b"\n"))
    emulator.clear()
    summary = await run_batch_file(client, source, output)
    assert summary.skipped == 3
    assert emulator.stats.total == 0
    assert len(read_output(output)) == 3


async def test_sigkill_mid_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """Kill -9 a running batch, run it again: every custom_id exactly once, as a success."""
    count, concurrency = 300, 8
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(count)])
    output = tmp_path / "out.jsonl"
    with DosAIEmulator(ttft=0.02, rate_limit=1_000_000_000).in_thread() as emulator:
        process = _start_driver(tmp_path, emulator.base_url, source, output, concurrency)
        try:
            _wait_for_lines(output, 100, process)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        finally:
            process.kill()
            process.communicate()  # reaps it and closes its stderr pipe
        before = output.read_bytes()
        written_before = before.count(b"\n")
        assert written_before < count, "the kill came too late to test anything"
        async with AsyncDosAI(api_key="dos_sk_test", base_url=emulator.base_url) as client:
            summary = await run_batch_file(client, source, output, concurrency=concurrency)
        sent = emulator.stats.total
    records = read_output(output)
    assert ok_ids(records) == {f"r{i}": 1 for i in range(count)}
    assert len(records) == count
    assert summary.ok
    assert output.read_bytes().startswith(before[: before.rfind(b"\n") + 1])
    # Sent twice: what the killed run had sent and not yet written. The batch holds at most
    # held_at_most(concurrency) items (in flight, plus finished ones queued for the writer;
    # test_batch proves the figure is reached and never exceeded), and the writer takes each
    # one synchronously, so a line torn mid-write is one of those; nothing is buffered past
    # write(): the output is unbuffered, so a written line is in the kernel and survives.
    assert sent <= count + held_at_most(concurrency)


async def test_stop_event_drains_and_the_rest_resumes(client: AsyncDosAI, tmp_path: Path) -> None:
    """Setting stop ends the run with its finished results written; a rerun completes it."""
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(200)])
    output = tmp_path / "out.jsonl"
    stop = asyncio.Event()

    def progress(snapshot: BatchProgress) -> None:
        if snapshot.succeeded >= 20:
            stop.set()

    first = await run_batch_file(
        client, source, output, concurrency=4, progress=progress, stop=stop
    )
    assert first.interrupted
    assert not first.ok
    assert len(read_output(output)) == first.succeeded < 200
    second = await run_batch_file(client, source, output)
    assert second.skipped == first.succeeded
    assert second.ok
    assert ok_ids(read_output(output)) == {f"r{i}": 1 for i in range(200)}


async def test_progress_reports_every_line(client: AsyncDosAI, tmp_path: Path) -> None:
    """The last progress snapshot accounts for every request line."""
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(25)] + ["{"])
    snapshots: list[BatchProgress] = []
    await run_batch_file(client, source, tmp_path / "out.jsonl", progress=snapshots.append)
    last = snapshots[-1]
    assert (last.total, last.done, last.succeeded, last.invalid) == (26, 26, 25, 1)
    assert last.tokens > 0
    assert last.elapsed > 0


async def test_two_runs_cannot_write_one_output(client: AsyncDosAI, tmp_path: Path) -> None:
    """A second run on an output that is being written fails with one clear error."""
    source = write_input(tmp_path / "in.jsonl", [line(f"r{i}") for i in range(50)])
    first = asyncio.ensure_future(run_batch_file(client, source, tmp_path / "out.jsonl"))
    await asyncio.sleep(0)
    with pytest.raises(DosAIError, match="another batch run"):
        await run_batch_file(client, source, tmp_path / "out.jsonl")
    assert (await first).ok


def _start_driver(
    tmp_path: Path, base_url: str, source: Path, output: Path, concurrency: int
) -> subprocess.Popen[bytes]:
    driver = tmp_path / "driver.py"
    driver.write_text(
        textwrap.dedent(
            """
            import asyncio, sys
            from dosai_async import AsyncDosAI
            from dosai_async._batch._files import run_batch_file

            async def main(base_url, source, output, concurrency):
                async with AsyncDosAI(api_key="dos_sk_test", base_url=base_url) as client:
                    await run_batch_file(client, source, output, concurrency=int(concurrency))

            asyncio.run(main(*sys.argv[1:]))
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(driver), base_url, str(source), str(output), str(concurrency)]
    return subprocess.Popen(args, env=env, stderr=subprocess.PIPE)


def _wait_for_lines(path: Path, lines: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= lines:
            return
        if process.poll() is not None:
            pytest.fail(f"the driver exited early: {process.stderr and process.stderr.read()!r}")
        time.sleep(0.002)
    pytest.fail("the driver wrote too slowly")
