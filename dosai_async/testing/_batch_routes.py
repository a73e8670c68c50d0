"""The Files and Batches routes: request data in, a ``Plan`` out, no I/O (as ``_routes``).

Every route checks the key first (401). Creating a batch answers the new ``batch`` object and
carries a ``StartBatch`` effect: the server stores and starts the job only if that answer
is really sent (a ``Fault.status`` on the route means the batch was never created). A
``BatchFault`` on the create request travels with the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._batches import BatchJob, BatchStore, StartBatch
from ._faults import BatchFault, Fault
from ._files import BATCH_URLS, FileStore, page, parse_batch_lines, parse_upload
from ._plan import Piece, Plan, error_plan, json_plan
from ._request import RequestError, invalid
from ._routes import NO_BODY, Api

__all__ = ["BatchApi"]

_CHUNK = 64 * 1024
_MAX_LIMIT = 100
_OCTETS = "application/octet-stream"


@attrs.define
class BatchApi:
    """Files and batches, on top of the chat and embeddings ``Api``."""

    api: Api
    files: FileStore
    batches: BatchStore = attrs.Factory(BatchStore)

    # -- files ---------------------------------------------------------------------------

    def upload(self, authorization: str, content_type: str, raw: bytes) -> Plan:
        """``POST /v1/files`` (multipart ``file`` and ``purpose``)."""
        try:
            self.api.authorize(authorization)
            filename, purpose, data = parse_upload(content_type, raw, self.files.max_bytes)
            parse_batch_lines(data)
        except RequestError as error:
            return error.plan
        return json_plan(200, self.files.add(filename, purpose, data).object())

    def file_list(self, authorization: str, query: Mapping[str, str]) -> Plan:
        """``GET /v1/files`` (``purpose``, ``order``, ``limit``, ``after``)."""
        try:
            self.api.authorize(authorization)
            limit = _limit(query, 10_000)
        except RequestError as error:
            return error.plan
        purpose = query.get("purpose")
        items = [f.object() for f in self.files if purpose in (None, f.purpose)]
        if query.get("order", "desc") == "desc":
            items.reverse()
        return json_plan(200, page(items, limit, query.get("after")))

    def file(self, authorization: str, file_id: str) -> Plan:
        """``GET /v1/files/{id}``."""
        try:
            self.api.authorize(authorization)
            return json_plan(200, self.files.get(file_id).object())
        except RequestError as error:
            return error.plan

    def file_content(self, authorization: str, file_id: str) -> Plan:
        """``GET /v1/files/{id}/content``: the raw bytes, written in 64 KiB chunks."""
        try:
            self.api.authorize(authorization)
            data = self.files.get(file_id).data
        except RequestError as error:
            return error.plan
        pieces = tuple(Piece(data[i : i + _CHUNK]) for i in range(0, len(data), _CHUNK))
        return Plan(200, _OCTETS, pieces, content_length=len(data), stream_pieces=True)

    def file_delete(self, authorization: str, file_id: str) -> Plan:
        """``DELETE /v1/files/{id}``."""
        try:
            self.api.authorize(authorization)
            self.files.delete(file_id)
        except RequestError as error:
            return error.plan
        return json_plan(200, {"id": file_id, "object": "file", "deleted": True})

    # -- batches -------------------------------------------------------------------------

    def create(self, authorization: str, body: Any, fault: Fault | None) -> Plan:
        """``POST /v1/batches``: answer the new batch; the server starts it."""
        try:
            self.api.authorize(authorization)
            job = self._new_job(body)
        except RequestError as error:
            return error.plan
        job.fault = fault if isinstance(fault, BatchFault) else None
        return attrs.evolve(json_plan(200, job.object()), effects=(StartBatch(job),))

    def batch(self, authorization: str, batch_id: str) -> Plan:
        """``GET /v1/batches/{id}``."""
        try:
            self.api.authorize(authorization)
            return json_plan(200, self._job(batch_id).object())
        except RequestError as error:
            return error.plan

    def cancel(self, authorization: str, batch_id: str) -> Plan:
        """``POST /v1/batches/{id}/cancel``: ``cancelling`` now, ``cancelled`` after the line."""
        try:
            self.api.authorize(authorization)
            job = self._job(batch_id)
        except RequestError as error:
            return error.plan
        if job.status in ("validating", "in_progress"):
            job.mark("cancelling")
        elif job.status not in ("cancelling", "cancelled"):
            return error_plan(409, f"Cannot cancel a batch with status {job.status!r}")
        return json_plan(200, job.object())

    def batch_list(self, authorization: str, query: Mapping[str, str]) -> Plan:
        """``GET /v1/batches`` (``limit`` 1..100, default 20, and ``after``), newest first."""
        try:
            self.api.authorize(authorization)
            limit = _limit(query, 20)
        except RequestError as error:
            return error.plan
        items = [job.object() for job in reversed(list(self.batches))]
        return json_plan(200, page(items, limit, query.get("after")))

    def _new_job(self, body: Any) -> BatchJob:
        """Check the create body and the input file; a job not yet stored."""
        if body is NO_BODY or not isinstance(body, dict):
            raise invalid("Request body must be a JSON object", "invalid_request")
        endpoint = body.get("endpoint")
        if endpoint not in BATCH_URLS:
            message = f"'endpoint' must be one of {', '.join(BATCH_URLS)}"
            raise invalid(message, "invalid_value", "endpoint")
        if body.get("completion_window") != "24h":
            raise invalid("'completion_window' must be '24h'", "invalid_value", "completion_window")
        metadata = body.get("metadata")
        if metadata is not None and not _is_metadata(metadata):
            raise invalid("'metadata' must map strings to strings", "invalid_type", "metadata")
        file_id = body.get("input_file_id")
        if not isinstance(file_id, str):
            raise invalid("'input_file_id' is required", "missing_required_parameter")
        stored = self.files.get(file_id)
        if stored.purpose != "batch":
            raise invalid(
                f"File {file_id} has purpose {stored.purpose!r}, not 'batch'", "invalid_value"
            )
        return BatchJob(endpoint, file_id, parse_batch_lines(stored.data), metadata)

    def _job(self, batch_id: str) -> BatchJob:
        """The batch, or a 404."""
        job = self.batches.get(batch_id)
        if job is None:
            raise RequestError(404, f"No such Batch object: {batch_id}", "batch_not_found", "id")
        return job


def _limit(query: Mapping[str, str], default: int) -> int:
    """The ``limit`` query parameter (a 400 unless a positive integer)."""
    text = query.get("limit")
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise invalid("'limit' must be a positive integer", "invalid_value", "limit")
    return min(int(text), max(default, _MAX_LIMIT))


def _is_metadata(value: Any) -> bool:
    """OpenAI's metadata: up to 16 string keys and string values."""
    if not isinstance(value, dict) or len(value) > 16:
        return False
    return all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
