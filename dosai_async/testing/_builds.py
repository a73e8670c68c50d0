"""Adapters from an aiohttp request to a route's pure `Plan` function (no I/O).

The server's pipeline calls every route as `build(request, body, fault)`; these wrap the
`Api` and `BatchApi` methods, which take only the data they need (the key, the body, the
path's `{id}`, the query string).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from ._faults import Fault
from ._plan import Plan

__all__ = [
    "Build",
    "authorization",
    "by_body",
    "by_fault",
    "by_id",
    "by_key",
    "by_query",
    "by_upload",
]

Build = Callable[[web.Request, Any, Fault | None], Plan]


def authorization(request: web.Request) -> str:
    """The Authorization header, or ""."""
    return request.headers.get("Authorization", "")


def by_key(route: Callable[[str], Plan]) -> Build:
    """A route that takes the key only."""
    return lambda request, body, fault: route(authorization(request))


def by_body(route: Callable[[str, Any], Plan]) -> Build:
    """A route that takes the key and the parsed body."""
    return lambda request, body, fault: route(authorization(request), body)


def by_fault(route: Callable[[str, Any, Fault | None], Plan]) -> Build:
    """A route that takes the key, the body and the request's fault (batch create)."""
    return lambda request, body, fault: route(authorization(request), body, fault)


def by_upload(route: Callable[[str, str, bytes], Plan]) -> Build:
    """A multipart upload: the key, the Content-Type and the raw body bytes."""

    def build(request: web.Request, body: Any, fault: Fault | None) -> Plan:
        raw = body if isinstance(body, bytes) else b""
        return route(authorization(request), request.headers.get("Content-Type", ""), raw)

    return build


def by_id(route: Callable[[str, str], Plan]) -> Build:
    """A route that takes the key and the path's `{id}`."""
    return lambda request, body, fault: route(authorization(request), request.match_info["id"])


def by_query(route: Callable[[str, Mapping[str, str]], Plan]) -> Build:
    """A route that takes the key and the query string."""
    return lambda request, body, fault: route(authorization(request), request.query)
