"""Adapters from an aiohttp request to a route's pure ``Plan`` function (no I/O).

The server's pipeline calls every route as ``build(request, body, fault)``; these wrap the
``Api`` and ``BatchApi`` methods, which take only the data they need (the key, the body, the
path's ``{id}``, the query string).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from ._batch_routes import BatchApi
from ._faults import Fault
from ._plan import Plan, error_plan
from ._routes import Api

__all__ = [
    "Build",
    "authorization",
    "by_body",
    "by_fault",
    "by_id",
    "by_key",
    "by_model",
    "by_query",
    "by_upload",
    "route_table",
    "sent_status",
    "unknown_path",
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
    """A route that takes the key and the path's ``{id}``."""
    return lambda request, body, fault: route(authorization(request), request.match_info["id"])


def by_query(route: Callable[[str, Mapping[str, str]], Plan]) -> Build:
    """A route that takes the key and the query string."""
    return lambda request, body, fault: route(authorization(request), request.query)


def by_model(route: Callable[[str, str], Plan]) -> Build:
    """A route that takes the key and the path's ``{model}`` (which may hold slashes)."""
    return lambda request, body, fault: route(authorization(request), request.match_info["model"])


def unknown_path(request: web.Request, body: Any, fault: Fault | None) -> Plan:
    """Any other path (only header faults reach it)."""
    return error_plan(404, f"Unknown path {request.path}")


def route_table(api: Api, batch: BatchApi, chat: Build) -> list[tuple[str, str, str | None, Build]]:
    """Every route as (method, path, fault route name, build); the last one catches the rest."""
    return [
        ("POST", "/v1/chat/completions", "chat", chat),
        ("GET", "/v1/models", "models", by_key(api.model_list)),
        ("GET", "/v1/models/{model:.+}", "models", by_model(api.model)),
        ("POST", "/v1/embeddings", "embeddings", by_body(api.embeddings)),
        ("GET", "/v1/key", "account", by_key(api.key)),
        ("GET", "/v1/user/balance", "account", by_key(api.balance)),
        ("POST", "/v1/files", "files", by_upload(batch.upload)),
        ("GET", "/v1/files", "files", by_query(batch.file_list)),
        ("GET", "/v1/files/{id}", "files", by_id(batch.file)),
        ("DELETE", "/v1/files/{id}", "files", by_id(batch.file_delete)),
        ("GET", "/v1/files/{id}/content", "files", by_id(batch.file_content)),
        ("POST", "/v1/batches", "batches", by_fault(batch.create)),
        # Reads and cancels have their own fault route: a fault queued for "batches" waits
        # for the next create, however many polls and lists come first.
        ("GET", "/v1/batches", "batch-status", by_query(batch.batch_list)),
        ("GET", "/v1/batches/{id}", "batch-status", by_id(batch.batch)),
        ("POST", "/v1/batches/{id}/cancel", "batch-status", by_id(batch.cancel)),
        ("*", "/{tail:.*}", None, unknown_path),
    ]


def sent_status(request: web.Request, response: web.StreamResponse | None) -> int:
    """The status sent, or 0 when the connection was reset before any status left."""
    transport = request.transport
    gone = transport is None or transport.is_closing()
    if response is None or (gone and not response.prepared):
        return 0
    return response.status
