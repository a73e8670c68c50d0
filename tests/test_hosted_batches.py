"""The hosted Files and Batch APIs through this SDK, and ``batches.run_file``, the whole job."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dosai_async import AsyncDosAI, BatchJob, DosAIError, FileObject, RetryPolicy, run_batch_file
from dosai_async.testing import DosAIEmulator, Fault
from dosai_async.types import Batch, BatchRequestCounts

CHAT_URL = "/v1/chat/completions"


def line(i: int) -> dict[str, Any]:
    """One batch input line asking a small chat question."""
    body = {"model": "dos-ai", "messages": [{"role": "user", "content": f"q {i}"}]}
    return {"custom_id": f"r{i}", "method": "POST", "url": CHAT_URL, "body": body}


def jsonl(count: int) -> bytes:
    """``count`` request lines as a JSONL file."""
    return "".join(json.dumps(line(i)) + "\n" for i in range(count)).encode()


def read_lines(path: Path) -> list[dict[str, Any]]:
    """A JSONL file's records."""
    return [json.loads(raw) for raw in path.read_text().splitlines()]


@pytest.fixture
async def emu() -> AsyncIterator[DosAIEmulator]:
    """An emulator whose batches run at 1 ms per line (conftest's ``dos`` client uses it)."""
    async with DosAIEmulator(batch_interval=0.001, rate_limit=1_000_000_000) as emulator:
        yield emulator


async def run(dos: AsyncDosAI, source: Path, target: Path) -> Any:
    """``run_file`` polling fast, as tests want."""
    return await dos.batches.run_file(source, target, poll_interval=0.01, max_poll_interval=0.05)


# -- files ------------------------------------------------------------------------------


async def test_upload_bytes_path_and_open_file(dos: AsyncDosAI, tmp_path: Path) -> None:
    """files.create takes bytes, a path and an open file; each arrives whole."""
    data = jsonl(3)
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    with source.open("rb") as handle:
        uploads = [
            await dos.files.create(file=data, purpose="batch"),
            await dos.files.create(file=source, purpose="batch"),
            await dos.files.create(file=handle, purpose="batch"),
            await dos.files.create(file=("named.jsonl", io.BytesIO(data)), purpose="batch"),
        ]
        assert not handle.closed  # the caller's file is the caller's to close
    assert all(isinstance(u, FileObject) and u.bytes == len(data) for u in uploads)
    assert [u.filename for u in uploads] == ["upload.jsonl", "in.jsonl", "in.jsonl", "named.jsonl"]
    for uploaded in uploads:
        assert await dos.files.content(uploaded.id) == data


async def test_retrieve_list_content_to_disk_and_delete(dos: AsyncDosAI, tmp_path: Path) -> None:
    """retrieve, list (a page, and every item), content(to=path) and delete."""
    first = await dos.files.create(file=jsonl(2), purpose="batch")
    second = await dos.files.create(file=jsonl(5), purpose="batch")
    assert (await dos.files.retrieve(first.id)).bytes == first.bytes
    page = await dos.files.list(limit=1)
    assert [f.id for f in page] == [second.id]
    assert page.has_more
    assert [f.id async for f in dos.files.list(limit=1)] == [second.id, first.id]
    target = tmp_path / "copy.jsonl"
    assert await dos.files.content(second.id, to=target) == target
    assert target.read_bytes() == jsonl(5)
    deleted = await dos.files.delete(first.id)
    assert deleted.deleted
    assert deleted.id == first.id
    assert [f.id async for f in dos.files.list()] == [second.id]


async def test_upload_refused_by_the_server_is_a_clear_error(dos: AsyncDosAI) -> None:
    """A bad batch file is a 400 naming the line, and an upload is not retried on it."""
    with pytest.raises(DosAIError, match="line 1"):
        await dos.files.create(file=b'{"custom_id": 1}\n', purpose="batch")


async def test_upload_of_a_missing_path_says_so(dos: AsyncDosAI, tmp_path: Path) -> None:
    """A path that does not exist fails before anything is sent."""
    with pytest.raises(FileNotFoundError, match="no such file"):
        await dos.files.create(file=tmp_path / "nope.jsonl", purpose="batch")


async def test_upload_is_not_retried_on_a_5xx(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """A 500 to an upload is raised, not retried: the file may have been stored (it was)."""
    emu.enqueue(Fault.status(500), route="files")
    with pytest.raises(DosAIError, match="Internal server error"):
        await dos.files.create(file=jsonl(1), purpose="batch")
    assert [r.path for r in emu.requests] == ["/v1/files"]
    assert len(emu.files) == 1  # a retry would have stored a second copy


# -- batches ----------------------------------------------------------------------------


async def test_batch_create_retrieve_list_cancel(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """create, retrieve, list and cancel, with typed fields."""
    emu.batch_interval = 0.05  # slow enough to cancel mid-way
    uploaded = await dos.files.create(file=jsonl(50), purpose="batch")
    batch = await dos.batches.create(
        input_file_id=uploaded.id, endpoint=CHAT_URL, metadata={"job": "nightly"}
    )
    assert isinstance(batch, Batch)
    assert batch is not None
    assert BatchJob is Batch
    assert batch.metadata == {"job": "nightly"}
    assert batch.input_file_id == uploaded.id
    again = await dos.batches.retrieve(batch.id)
    assert isinstance(again.request_counts, BatchRequestCounts)
    assert again.request_counts.total == 50
    assert [b.id async for b in dos.batches.list()] == [batch.id]
    cancelled = await dos.batches.cancel(batch.id)
    assert cancelled.status in ("cancelling", "cancelled")
    final = await emu.wait_for_batch(batch.id)
    assert final["status"] == "cancelled"
    done = await dos.batches.retrieve(batch.id)
    assert done.is_done
    assert done.error_file_id is not None


async def test_batch_runs_to_completion_with_files(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """A completed batch names its output file; its lines are one per request."""
    uploaded = await dos.files.create(file=jsonl(4), purpose="batch")
    batch = await dos.batches.create(input_file_id=uploaded.id)
    await emu.wait_for_batch(batch.id)
    done = await dos.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert done.request_counts == BatchRequestCounts(4, 4, 0)
    assert done.output_file_id is not None
    assert done.error_file_id is None
    lines = (await dos.files.content(done.output_file_id)).splitlines()
    assert sorted(json.loads(raw)["custom_id"] for raw in lines) == ["r0", "r1", "r2", "r3"]


# -- run_file ---------------------------------------------------------------------------


async def test_run_file_writes_one_line_per_custom_id(
    dos: AsyncDosAI, emu: DosAIEmulator, tmp_path: Path
) -> None:
    """1,000 lines: 1,000 results, each custom_id once, all successes; one batch."""
    emu.batch_interval = 0
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(1000))
    seen: list[BatchJob] = []
    summary = await dos.batches.run_file(
        source, target, poll_interval=0.01, max_poll_interval=0.05, progress=seen.append
    )
    records = read_lines(target)
    assert sorted(r["custom_id"] for r in records) == sorted(f"r{i}" for i in range(1000))
    assert all(r["error"] is None and r["response"]["status_code"] == 200 for r in records)
    assert summary.ok
    assert (summary.succeeded, summary.failed) == (1000, 0)
    assert not summary.reattached
    assert len(emu.batches) == 1
    assert seen[-1].status == "completed"
    assert seen[-1].request_counts is not None
    assert not (tmp_path / "out.jsonl.batch.json").exists()  # done: nothing to re-attach
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


async def test_run_file_writes_the_local_runners_format(dos: AsyncDosAI, tmp_path: Path) -> None:
    """The same input through the hosted and the local runner: the same record shapes."""
    source = tmp_path / "in.jsonl"
    source.write_bytes(jsonl(5))
    await run(dos, source, tmp_path / "hosted.jsonl")
    await run_batch_file(dos, source, tmp_path / "local.jsonl")
    hosted = {r["custom_id"]: r for r in read_lines(tmp_path / "hosted.jsonl")}
    local = {r["custom_id"]: r for r in read_lines(tmp_path / "local.jsonl")}
    assert hosted.keys() == local.keys()
    for custom_id, record in hosted.items():
        other = local[custom_id]
        assert record.keys() == other.keys()
        assert record["response"].keys() == other["response"].keys()
        assert record["response"]["body"].keys() == other["response"]["body"].keys()
        assert record["id"].startswith("batch_req_")


def faulty(emu: DosAIEmulator, fault: str) -> AsyncDosAI:
    """A client whose batch creates carry ``X-Emulator-Fault`` (the other routes ignore it)."""
    return AsyncDosAI(
        api_key=emu.api_key,
        base_url=emu.base_url,
        retry=RetryPolicy.zero_wait(),
        default_headers={"X-Emulator-Fault": fault},
    )


async def test_line_errors_become_error_lines(emu: DosAIEmulator, tmp_path: Path) -> None:
    """Lines the server answered with 429 end up with error set, as the local runner writes."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(6))
    async with faulty(emu, "batch-line-errors=2; status=429") as dos:
        summary = await run(dos, source, target)
    records = read_lines(target)
    failed = [r for r in records if r["error"] is not None]
    assert len(records) == 6
    assert len(failed) == 3 == summary.failed
    assert all(r["response"]["status_code"] == 429 for r in failed)
    assert all(r["error"]["code"] and r["error"]["message"] for r in failed)
    assert not summary.ok


@pytest.mark.parametrize(
    ("fault", "code"),
    [("batch-failed=bad input", "batch_failed"), ("batch-expired=2", "batch_expired")],
)
async def test_failed_and_expired_batches_account_for_every_line(
    emu: DosAIEmulator, tmp_path: Path, fault: str, code: str
) -> None:
    """A failed or expired batch: every request that did not run is an error line."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(5))
    async with faulty(emu, fault) as dos:
        summary = await run(dos, source, target)
    records = read_lines(target)
    assert sorted(r["custom_id"] for r in records) == [f"r{i}" for i in range(5)]
    unrun = [r for r in records if r["error"] is not None]
    assert unrun
    assert {r["error"]["code"] for r in unrun} == {code}
    assert summary.failed == len(unrun)
    assert not summary.ok


async def test_rerun_reattaches_through_the_state_file(
    dos: AsyncDosAI, emu: DosAIEmulator, tmp_path: Path
) -> None:
    """A state file left by a stopped run makes the next run re-attach, not resubmit."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(3))
    first = await run(dos, source, target)
    state = tmp_path / "out.jsonl.batch.json"
    state.write_text(json.dumps({"batch_id": first.batch.id, "fingerprint": _fp(emu)}))
    second = await run(dos, source, target)
    assert second.reattached
    assert second.batch.id == first.batch.id
    assert len(emu.batches) == 1
    assert len(read_lines(target)) == 3


def _fp(emu: DosAIEmulator) -> str:
    """The fingerprint the first run put in its batch's metadata."""
    metadata = emu.batches[0]["metadata"]
    assert isinstance(metadata, dict)
    return str(metadata["dosai_input_sha256"])


async def test_rerun_without_a_state_file_finds_the_batch(
    dos: AsyncDosAI, emu: DosAIEmulator, tmp_path: Path
) -> None:
    """Killed between create and the state file: the batch is found by its fingerprint."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(3))
    await run(dos, source, target)
    again = await run(dos, source, tmp_path / "again.jsonl")
    assert again.reattached
    assert len(emu.batches) == 1
    assert len(read_lines(tmp_path / "again.jsonl")) == 3


async def test_state_file_for_another_input_is_refused(
    dos: AsyncDosAI, emu: DosAIEmulator, tmp_path: Path
) -> None:
    """A state file naming a batch of a different input is refused with what to do."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(3))
    (tmp_path / "out.jsonl.batch.json").write_text(
        json.dumps({"batch_id": "batch_x", "fingerprint": "sha256:other"})
    )
    with pytest.raises(DosAIError, match=r"different input.*delete the state file"):
        await run(dos, source, target)
    assert len(emu.batches) == 0
    assert not target.exists()


async def test_state_file_naming_an_unknown_batch_says_what_to_do(
    dos: AsyncDosAI, emu: DosAIEmulator, tmp_path: Path
) -> None:
    """A state file whose batch the server does not know (404): one error saying to delete it."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(3))
    await run(dos, source, tmp_path / "first.jsonl")  # only to learn the input's fingerprint
    (tmp_path / "out.jsonl.batch.json").write_text(
        json.dumps({"batch_id": "batch_gone", "fingerprint": _fp(emu)})
    )
    with pytest.raises(DosAIError, match=r"does not know.*Delete the state file"):
        await run(dos, source, target)
    assert len(emu.batches) == 1
    assert not target.exists()
