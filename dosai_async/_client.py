"""``AsyncDosAI``: configuration, lifecycle and wiring of the layers below."""

from __future__ import annotations

import copy
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
from ._core._hooks import Hooks
from ._core._logs import setup_logging
from ._core._proxy import resolve_proxy
from ._core._transport import ClientSession, Transport
from ._core._watch import Observers
from ._requester import CallOptions, Requester
from ._resources._account import BalanceResource, KeyResource
from ._resources._batches import Batches
from ._resources._chat import Chat
from ._resources._embeddings import Embeddings
from ._resources._files import Files
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

    Proxies: ``$HTTPS_PROXY`` / ``$HTTP_PROXY`` / ``$ALL_PROXY`` and ``$NO_PROXY`` are read
    when the client is created; ``trust_env=False`` ignores them and ``proxy="http://..."``
    beats them. ``$DOS_AI_LOG=debug`` logs every attempt to stderr (``info``: retries). ``hooks`` (a
    ``Hooks``) are called on every attempt; ``tracing=True`` makes an OpenTelemetry span
    per call (``pip install 'dosai-async[otel]'``).

    Use it as ``async with AsyncDosAI() as client`` or call ``await client.close()``
    (``aclose()`` is the same). ``client.with_options(timeout=..., max_retries=...)`` (or
    ``copy()``) gives a client with other settings over the same connection pool.
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
        trust_env: bool = True,
        proxy: str | None = None,
        hooks: Hooks | None = None,
        tracing: bool = False,
    ) -> None:
        setup_logging()
        key = self._api_key = _resolve_api_key(api_key)
        self._default_headers = dict(default_headers or {})
        self.base_url = _resolve_base_url(base_url, allow_insecure_http)
        self.timeout = Timeout().merge(timeout)
        self.retry = _resolve_retry(retry, max_retries)
        self.max_event_size = _check_max_event_size(max_event_size)
        self._defaults = CallOptions(self.timeout, self.retry)
        self._retry_only: CallOptions | None = None  # see _call_options
        self._transport = Transport(
            session=http_session,
            max_connections=max_connections,
            proxy=resolve_proxy(self.base_url, proxy, trust_env),
        )
        self._shared = Requester(
            self._transport,
            self.base_url,
            _headers(key, default_headers),
            _observers(self.base_url, hooks, tracing),
        )
        self._closed = False
        self._pool_owner = self  # the client whose close() closes the pool (copies share it)
        self._wire()

    def _wire(self) -> None:
        """Build the namespaces over this client's requester and options (again for a copy)."""
        self.chat = Chat(self._requester, self._call_options, max_event_size=self.max_event_size)
        self.models = Models(self._requester, self._call_options)
        self.files = Files(self._requester, self._call_options)
        self.batches = Batches(self._requester, self._call_options, self.files)
        self.embeddings = Embeddings(self._requester, self._call_options)
        self.key = KeyResource(self._requester, self._call_options)  # DOS only
        self.balance = BalanceResource(self._requester, self._call_options)  # DOS only

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

    def copy(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
    ) -> AsyncDosAI:
        """A client with some settings changed, sharing this one's connection pool.

        openai's ``copy()``/``with_options()``: cheap (no new session, no new connections),
        for one-off settings such as ``client.with_options(timeout=5).chat.completions...``.
        ``timeout`` is merged into this client's ``Timeout`` (a number sets ``total``);
        ``default_headers`` are added to this client's, ``set_default_headers`` replace them.
        Arguments left out keep this client's values.

        The pool stays this client's: closing the copy only stops the copy, and closing the
        original closes the pool for every copy too.
        """
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("pass default_headers (added) or set_default_headers, not both")
        clone = copy.copy(self)
        clone._api_key = self._api_key if api_key is None else _resolve_api_key(api_key)
        clone._default_headers = dict(
            set_default_headers
            if set_default_headers is not None
            else {**self._default_headers, **(default_headers or {})}
        )
        if base_url is not None:
            clone.base_url = _resolve_base_url(base_url, allow_insecure_http)
        clone.timeout = self.timeout.merge(timeout)
        clone.retry = _resolve_retry(retry or self.retry, max_retries)
        clone._defaults = CallOptions(clone.timeout, clone.retry)
        headers = _headers(clone._api_key, clone._default_headers)
        clone._shared = self._shared.retarget(clone.base_url, headers)
        clone._closed = False
        clone._wire()
        return clone

    with_options = copy  # openai's name for the same thing

    async def close(self) -> None:
        """Close the connection pool (a borrowed ``http_session`` is left open).

        On a ``copy()``, only the copy is closed: the pool belongs to the original.
        """
        self._closed = True
        if self._pool_owner is self:
            await self._transport.close()

    aclose = close  # the asyncio name (contextlib.aclosing), as on streams and batches

    @property
    def is_closed(self) -> bool:
        """True once ``close()`` was called (on a copy: or on the client it was copied from)."""
        return self._closed or self._pool_owner._closed

    def _requester(self) -> Requester:
        if self._closed or self._pool_owner._closed:
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


def _observers(base_url: str, hooks: Hooks | None, tracing: bool) -> Observers:
    if hooks is not None and not isinstance(hooks, Hooks):
        raise TypeError(f"hooks must be a Hooks(...) object, not {type(hooks).__name__}")
    if not tracing:
        return Observers(hooks)
    try:  # only a tracing client loads opentelemetry
        from ._core._telemetry import Tracer
    except ImportError as exc:
        raise DosAIError(
            f"tracing=True needs opentelemetry-api ({exc}): pip install 'dosai-async[otel]'"
        ) from None
    return Observers(hooks, Tracer(base_url))


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
