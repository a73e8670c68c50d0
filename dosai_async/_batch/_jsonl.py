"""The OpenAI/DOS Batch API JSONL format: input lines in, result lines out, no I/O here.

Input line: ``{"custom_id": "...", "method": "POST", "url": "/v1/chat/completions",
"body": {...}}``. Output line: ``{"id": "batch_req_...", "custom_id": "...", "response":
{"status_code", "request_id", "body"}, "error": null | {"code", "message"}}``.

Decisions:

- Validation is strict where the hosted Batch API is (``custom_id`` a non-empty string,
  ``method`` POST, ``url`` the chat-completions path with or without ``/v1``, ``body`` an
  object with a non-empty ``messages`` list, no ``stream: true``), so a file that runs here
  also runs there. Body keys the SDK does not model are sent as they are (``extra_body``).
- Success: ``response.body`` is the completion unstructured by the SDK's converter: every
  field the server sent (unknown ones included) except nulls, in the model's key order.
- Failure: ``error`` is always set, so "``error`` is null" means success. A failure that
  had an HTTP answer also carries it in ``response`` (status, request id, the server's
  error body), as the hosted API's error lines do; one without (connection, timeout,
  invalid request) has ``response: null``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from dosai_async._core._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DosAIError,
    ResponseValidationError,
)
from dosai_async._models import _converter
from dosai_async._models._params import OPTION_KEYS, PARAM_KEYS
from dosai_async._models._types import ChatCompletion

CHAT_URLS = frozenset({"/v1/chat/completions", "/chat/completions"})
_BODY_KEYS = (PARAM_KEYS - OPTION_KEYS) | {"model", "messages"}


class LineError(ValueError):
    """A malformed input line; ``custom_id`` is set when the line names a usable one."""

    def __init__(self, reason: str, custom_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.custom_id = custom_id


def parse_line(raw: bytes) -> tuple[str, dict[str, Any]]:
    """``(custom_id, create keyword arguments)`` for one input line, or ``LineError``."""
    try:
        record = _converter.loads(raw)
    except _converter.JSONDecodeError as exc:
        raise LineError(f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise LineError(f"expected a JSON object, got {_json_type(record)}")
    custom_id = record.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise LineError("'custom_id' must be a non-empty string")
    try:
        return custom_id, _request(record)
    except LineError as exc:
        raise LineError(exc.reason, custom_id) from None


def _request(record: Mapping[str, Any]) -> dict[str, Any]:
    if record.get("method") != "POST":
        raise LineError(f"'method' must be \"POST\", not {record.get('method')!r}")
    if record.get("url") not in CHAT_URLS:
        raise LineError(f"'url' must be \"/v1/chat/completions\", not {record.get('url')!r}")
    body = record.get("body")
    if not isinstance(body, dict):
        raise LineError(f"'body' must be a JSON object, got {_json_type(body)}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise LineError("'body.messages' must be a non-empty list of messages")
    if body.get("stream"):
        raise LineError("'body.stream' must not be true: batch results are whole completions")
    return to_params(body)


def to_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """``create`` keyword arguments for a request body; unknown keys go in ``extra_body``."""
    params: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in body.items():
        if key == "stream":
            continue  # false here (true was refused): the batch never streams
        (params if key in _BODY_KEYS else extra)[key] = value
    if extra:
        params["extra_body"] = extra
    return params


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else "a value")


# -- output lines ---------------------------------------------------------------------


def result_record(custom_id: str, result: ChatCompletion | DosAIError) -> dict[str, Any]:
    """The output line (as data) for one finished request."""
    if isinstance(result, ChatCompletion):
        meta = result.response
        response = {
            "status_code": meta.status_code if meta is not None else 200,
            "request_id": result.request_id,
            "body": _converter.unstructure(result),
        }
        return _record(custom_id, response, None)
    return _record(custom_id, _error_response(result), error_object(result))


def invalid_record(custom_id: str, reason: str) -> dict[str, Any]:
    """The output line for an input line that could not be sent."""
    return _record(custom_id, None, {"code": "invalid_request", "message": reason})


def _record(
    custom_id: str, response: dict[str, Any] | None, error: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": f"batch_req_{uuid.uuid4().hex}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }


def _error_response(error: DosAIError) -> dict[str, Any] | None:
    if not isinstance(error, APIStatusError):
        return None
    return {"status_code": error.status_code, "request_id": error.request_id, "body": error.body}


def error_object(error: DosAIError) -> dict[str, Any]:
    """``{"code", "message"}`` for an item's error."""
    return {"code": _error_code(error), "message": str(error)}


def _error_code(error: DosAIError) -> str:
    if isinstance(error, APIStatusError):
        return str(error.code or error.type or f"http_{error.status_code}")
    if isinstance(error, APITimeoutError):
        return "timeout"
    if isinstance(error, APIConnectionError):
        return "connection_error"
    if isinstance(error, ResponseValidationError):
        return "invalid_response"
    return str(error.code or "error")


def is_completed(record: object) -> bool:
    """Whether an output line records a success: status 200 and no error."""
    if not isinstance(record, dict) or record.get("error") is not None:
        return False
    response = record.get("response")
    return isinstance(response, dict) and response.get("status_code") == 200


def encode(record: Mapping[str, Any]) -> bytes:
    """One output line, newline included."""
    return _converter.dumps(record) + b"\n"
