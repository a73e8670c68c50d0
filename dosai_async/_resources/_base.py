"""What every namespace is built from: the client's requester and its call-options merge."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dosai_async._requester import CallOptions, Requester

#: Gives the client's ``Requester`` (raising once the client is closed).
RequesterFn = Callable[[], Requester]
#: Merges the client's defaults with a call's overrides (``timeout``, ``retry``, ...).
CallOptionsFn = Callable[[Mapping[str, Any]], CallOptions]
