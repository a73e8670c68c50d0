"""Streams: SSE bytes -> typed chunks -> an accumulated completion.

Owns the sans-I/O SSE decoder (``_sse``), the read deadline timer (``_watchdog``), the chunk
accumulator (``_accumulate``), ``AsyncStream`` (``_stream``) and the one ``async with``
manager for plain and parsed streams (``_manager``). A stream
gets an async iterator of body bytes and a close callback, never an aiohttp object.

May import: ``_core`` (not ``_transport``), ``_models``, the standard library and attrs.
"""
