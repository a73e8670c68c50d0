"""The results file of a hosted batch: the server's output and error files merged into the
local runner's line format, one line per ``custom_id``, written whole and renamed into place.

Hosted lines and local lines share a shape (``{"id", "custom_id", "response": {"status_code",
"request_id", "body"}, "error"}``); two things differ and are converted here:

- The hosted error file carries failed answers with ``error: null`` and the status in
  ``response``; locally ``error`` is set on every failure ("``error`` is null" means success),
  so such lines get ``{"code", "message"}`` from the server's error body.
- A successful chat completion's ``body`` goes through the SDK's model, as the local runner
  writes it (nulls dropped, unknown fields kept).

Requests with no line in either file (a batch that failed validation, or lost lines) get an
error line ``batch_<status>`` with ``response: null``, so the results account for every
request of the input. Only the ``custom_id`` values are held in memory.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from dosai_async._core._exceptions import ResponseValidationError
from dosai_async._models import _converter
from dosai_async._models._batches import Batch
from dosai_async._models._types import ChatCompletion

from ._jsonl import encode

__all__ = ["merge_results"]


def merge_results(
    target: Path, parts: list[Path], input_path: Path, batch: Batch
) -> tuple[int, int]:
    """Write ``target`` from the downloaded ``parts`` (output file first); (succeeded, failed)."""
    counts = [0, 0]
    seen: set[str] = set()
    chat = batch.endpoint.endswith("/chat/completions")
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                for record in _records(part, chat):
                    _put(out, record, seen, counts)
            for custom_id in _input_ids(input_path):
                if custom_id not in seen:
                    _put(out, _unrun(custom_id, batch), seen, counts)
            out.flush()
            os.fsync(out.fileno())  # on disk before the name moves: a kill leaves old or new
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return counts[0], counts[1]


def _put(out: BinaryIO, record: dict[str, Any], seen: set[str], counts: list[int]) -> None:
    if record["custom_id"] in seen:
        return  # one line per custom_id: the output file's success wins
    seen.add(record["custom_id"])
    counts[record["error"] is not None] += 1
    out.write(encode(record))


def _records(path: Path, chat: bool) -> Iterator[dict[str, Any]]:
    with path.open("rb") as lines:
        for raw in lines:
            record = _local(raw, chat)
            if record is not None:
                yield record


def _local(raw: bytes, chat: bool) -> dict[str, Any] | None:
    """One hosted result line in the local format; ``None`` for a line that is not one."""
    try:
        record = _converter.loads(raw)
    except _converter.JSONDecodeError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("custom_id"), str):
        return None
    response = record.get("response")
    error = record.get("error")
    status = response.get("status_code") if isinstance(response, dict) else None
    if error is None and not (isinstance(status, int) and 200 <= status < 300):
        error = _error_from(response)
    elif error is None and chat and isinstance(response, dict):
        response = {**response, "body": _completion(response.get("body"))}
    return {
        "id": record.get("id") or _line_id(),
        "custom_id": record["custom_id"],
        "response": response,
        "error": error,
    }


def _error_from(response: Any) -> dict[str, Any]:
    """``{"code", "message"}`` for a failed answer, from the server's error body."""
    status = response.get("status_code") if isinstance(response, dict) else None
    body = response.get("body") if isinstance(response, dict) else None
    inner = body.get("error") if isinstance(body, dict) else None
    detail = inner if isinstance(inner, dict) else body if isinstance(body, dict) else {}
    code = detail.get("code") or detail.get("type") or f"http_{status}"
    message = detail.get("message") or f"the request failed with HTTP status {status}"
    return {"code": str(code), "message": str(message)}


def _completion(body: Any) -> Any:
    """The completion as the local runner writes it (through the model); else as sent."""
    if not isinstance(body, dict):
        return body
    try:
        return _converter.unstructure(_converter.structure(body, ChatCompletion))
    except ResponseValidationError:
        return body


def _unrun(custom_id: str, batch: Batch) -> dict[str, Any]:
    reasons = [e.message for e in (batch.errors.data or []) if e.message] if batch.errors else []
    message = "; ".join(reasons) or f"the request did not run: the batch is {batch.status}"
    return {
        "id": _line_id(),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": f"batch_{batch.status}", "message": message},
    }


def _input_ids(path: Path) -> Iterator[str]:
    with path.open("rb") as lines:
        for raw in lines:
            if raw.strip():
                with contextlib.suppress(_converter.JSONDecodeError):
                    record = _converter.loads(raw)
                    if isinstance(record, dict) and isinstance(record.get("custom_id"), str):
                        yield record["custom_id"]


def _line_id() -> str:
    return f"batch_req_{uuid.uuid4().hex}"
