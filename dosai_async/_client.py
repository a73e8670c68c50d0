"""``AsyncDosAI``: configuration, lifecycle and wiring of the layers below."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import attrs

from ._core._config import DEFAULT_BASE_URL, RetryPolicy, Timeout
from ._core._env import API_KEY_ENV, BASE_URL_ENV
from ._core._exceptions import DosAIError
from ._core._transport import ClientSession, Transport
from ._requester import CallOptions, Requester
from ._resources._chat import Chat
from ._resources._models import Models
from ._streaming._sse import DEFAULT_MAX_EVENT_SIZE
from ._version import __version__


class AsyncDosAI:
    """An asyncio client for the DOS AI API; create one and share it.

    ``api_key`` defaults to ``$DOS_AI_API_KEY`` (surrounding whitespace is stripped) and
    ``base_url`` to ``$DOS_AI_BASE_URL``, else ``https://api.dos.ai/v1``. ``timeout`` is a
    ``Timeout`` or a number of seconds for the whole call; ``max_retries`` (default 2) or a
    full ``retry`` policy; ``default_headers`` go on every request. Pass ``http_session`` to
    use your own ``aiohttp.ClientSession``: it is borrowed, never closed by this client.
    ``max_event_size`` (bytes, default 16 MiB, ``None`` for no limit) bounds one line or
    event of a stream: a server that sends more without a line ending (or without a blank
    line) makes the stream fail with ``APIConnectionError`` instead of filling memory.

    The key is only sent over https, or over plain http to a loopback host (a local
    emulator); ``allow_insecure_http=True`` lifts that for other hosts.

    Use it as ``async with AsyncDosAI() as client`` or call ``await client.close()``
    (``aclose()`` is the same).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_session: ClientSession | None = None,
        max_connections: int = 1000,
        allow_insecure_http: bool = False,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        key = _resolve_api_key(api_key)
        self.base_url = _resolve_base_url(base_url, allow_insecure_http)
        self.timeout = Timeout().merge(timeout)
        self.retry = _resolve_retry(retry, max_retries)
        self.max_event_size = _check_max_event_size(max_event_size)
        self._defaults = CallOptions(self.timeout, self.retry)
        self._retry_only: CallOptions | None = None  # see _call_options
        self._transport = Transport(session=http_session, max_connections=max_connections)
        self._shared = Requester(self._transport, self.base_url, _headers(key, default_headers))
        self._closed = False
        self.chat = Chat(self._requester, self._call_options, max_event_size=self.max_event_size)
        self.models = Models(self._requester, self._call_options)

    def __repr__(self) -> str:
        # The key never appears here (nor in any error or log line).
        return f"AsyncDosAI(base_url={self.base_url!r})"

    async def __aenter__(self) -> AsyncDosAI:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool (a borrowed ``http_session`` is left open)."""
        self._closed = True
        await self._transport.close()

    aclose = close  # the asyncio name (contextlib.aclosing), as on streams and batches

    @property
    def is_closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._closed

    def _requester(self) -> Requester:
        if self._closed:
            raise DosAIError("This AsyncDosAI client is closed; create a new one to send requests.")
        return self._shared

    def _call_options(self, params: Mapping[str, Any]) -> CallOptions:
        if _OVERRIDES.isdisjoint(params):  # the common case: the client's own settings
            defaults = self._defaults
            if defaults.timeout is not self.timeout or defaults.retry is not self.retry:
                defaults = self._defaults = CallOptions(self.timeout, self.retry)
            return defaults
        retry = params.get("retry") or self.retry
        if params.get("max_retries") is not None:
            retry = _resolve_retry(retry, params["max_retries"])
        elif params.get("timeout") is None and params.get("extra_headers") is None:
            # Only the policy differs (every batch item passes one): reuse the last options.
            last = self._retry_only
            if last is None or last.retry is not retry or last.timeout is not self.timeout:
                last = self._retry_only = CallOptions(self.timeout, retry)
            return last
        return CallOptions(
            self.timeout.merge(params.get("timeout")), retry, params.get("extra_headers")
        )


_OVERRIDES = frozenset({"timeout", "max_retries", "retry", "extra_headers"})


def _resolve_api_key(api_key: str | None) -> str:
    key = (api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")).strip()
    if not key:
        raise DosAIError(
            f"No API key: pass api_key=... to AsyncDosAI or set the {API_KEY_ENV} "
            "environment variable."
        )
    return key


def _resolve_base_url(base_url: str | None, allow_insecure_http: bool) -> str:
    url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DosAIError(f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, not {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise DosAIError(
            f"Refusing to send the API key over plain http:// to {parts.hostname}: use "
            "https://, or pass allow_insecure_http=True if this network is trusted."
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resolve_retry(retry: RetryPolicy | None, max_retries: int | None) -> RetryPolicy:
    policy = retry or RetryPolicy()
    if max_retries is None:
        return policy
    if max_retries < 0:
        raise ValueError(f"max_retries must be >= 0, not {max_retries}")
    return attrs.evolve(policy, max_retries=max_retries)


def _check_max_event_size(size: int | None) -> int | None:
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"max_event_size must be a positive number of bytes or None, not {size!r}")
    return size


def _headers(key: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": f"dosai-async/{__version__}",
    }
    headers.update(extra or {})
    return headers
