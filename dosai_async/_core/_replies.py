"""What the requester reads off a reply: the error of a status, the key to mask in errors,
the request id, and a download's body written into place. Pure functions over plain
values (headers mappings, ``StreamingResponse``), split out of ``_requester`` for its size.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ._config import header
from ._error_bodies import ResponseErrors
from ._transport import StreamingResponse


def raise_for_status(status: int, headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Raise the ``APIStatusError`` of a status of 300 or more (``secret`` masked)."""
    if status >= 300:
        errors = ResponseErrors(status, headers, request_id(headers), secret)
        raise errors.status_error(body)


def api_key(headers: Mapping[str, str]) -> str:
    """The API key of a request's headers, which servers may quote back ("Incorrect API key
    provided: dos_sk_..."): every error built from a response masks it."""
    scheme, _, key = (header(headers, "Authorization") or "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def request_id(headers: Mapping[str, str]) -> str | None:
    """The server's ``x-request-id``."""
    found = headers.get("x-request-id")  # a response's headers: case-insensitive already
    if found is not None or type(headers) is not dict:
        return found
    return header(headers, "x-request-id")


async def write_body(response: StreamingResponse, target: Path) -> int:
    """Stream a body into a temporary file beside ``target``, then rename it into place:
    a download cut short never leaves a torn ``target``. The number of bytes written."""
    partial = target.with_name(f".{target.name}.part")
    written = 0
    try:
        with partial.open("wb") as sink:
            async for chunk in response.body():
                sink.write(chunk)
                written += len(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written
