"""``ResponseMeta``: the HTTP facts of a response, shared by models, streams and errors."""

from __future__ import annotations

from collections.abc import Mapping

import attrs


@attrs.frozen
class ResponseMeta:
    """HTTP facts of the response a model, stream or error came from.

    ``status_code``, ``headers`` and the server's ``x-request-id`` as ``request_id``. It is
    what ``.response`` holds on models, streams and ``APIStatusError`` (openai's
    ``e.response.status_code`` and ``e.response.headers`` read the same).
    """

    status_code: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    request_id: str | None = None
