"""Which proxy a client uses: its ``proxy`` argument, else the environment's, else none.

Decided once, when the client is created (as httpx, and so openai, do): every request of a
client goes to one host, so one answer serves them all and no request pays for it.
``HTTPS_PROXY`` / ``HTTP_PROXY`` (by the base URL's scheme, any case) or ``ALL_PROXY`` name
the proxy; ``NO_PROXY`` lists hosts reached directly (``urllib``'s rules, the ones
aiohttp's ``trust_env`` applies). ``trust_env=False`` ignores all of them.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

from ._exceptions import APIConnectionError, DosAIError

_SCHEMES = ("http", "https")


def resolve_proxy(base_url: str, proxy: str | None, trust_env: bool) -> str | None:
    """The proxy URL for requests to ``base_url``, or ``None`` to connect directly."""
    if proxy is not None:
        return _checked(proxy, "proxy")
    if not trust_env:
        return None
    parts = urlsplit(base_url)
    if parts.hostname is None or urllib.request.proxy_bypass(parts.hostname):
        return None  # NO_PROXY names this host
    found = urllib.request.getproxies()
    for key in (parts.scheme, "all"):
        if found.get(key):
            variable = f"{key.upper()}_PROXY"
            return _checked(found[key], f"${variable} (or pass trust_env=False to ignore it)")
    return None


def _checked(url: str, source: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = f"http://{url}"  # HTTP_PROXY=proxy:3128 is common; curl reads it as http://
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        shown = repr(_hide_auth(url))
        raise DosAIError(
            f"{source} must be an http:// or https:// proxy URL such as "
            f"http://proxy.example:3128, not {shown}"
        )
    return url


def _hide_auth(url: str) -> str:
    """The URL without ``user:password@``: an error message must not print credentials."""
    _, at, tail = url.rpartition("@")
    return f"***@{tail}" if at else url


def proxy_error(proxy: str, reply: str | None) -> APIConnectionError:
    """A failure at the proxy, said as one (otherwise it reads like the API is down), with
    its credentials left out; ``reply`` is the proxy's own answer, if it gave one."""
    parts = urlsplit(proxy)
    shown = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    why = "it could not be reached" if reply is None else f"it answered {reply}"
    return APIConnectionError(
        f"Connection failed at the proxy {shown} ({why}); the proxy comes from the proxy= "
        "argument or $HTTPS_PROXY / $HTTP_PROXY / $ALL_PROXY (trust_env=False ignores those)."
    )
