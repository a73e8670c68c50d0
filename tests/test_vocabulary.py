"""One vocabulary across the public API: closing, exception paths, no internal protocol."""

from __future__ import annotations

import pickle

import pytest

import dosai_async as d
from dosai_async import AsyncDosAI, AsyncStream, Batch, ParsedStream


@pytest.mark.parametrize("cls", [AsyncDosAI, AsyncStream, ParsedStream, Batch])
def test_every_closable_has_close_and_aclose(cls: type) -> None:
    """Client, streams and batches all answer both close() and aclose()."""
    assert callable(cls.close)
    assert callable(cls.aclose)


def test_exceptions_read_as_the_public_path() -> None:
    """Every public exception says dosai_async.Name in tracebacks, and pickles by it."""
    errors = [
        getattr(d, name)
        for name in d.__all__
        if isinstance(getattr(d, name), type) and issubclass(getattr(d, name), BaseException)
    ]
    assert d.RateLimitError in errors
    for error in errors:
        assert error.__module__ == "dosai_async", error
    copy = pickle.loads(pickle.dumps(d.DosAIError("boom")))
    assert type(copy) is d.DosAIError


def test_models_keep_their_home_module() -> None:
    """Models keep their private module: their annotations are resolved there."""
    assert d.ChatCompletion.__module__.startswith("dosai_async._models")


def test_stream_exposes_no_priming_method() -> None:
    """Priming a stream is the requester's business: AsyncStream has no public start()."""
    assert not hasattr(AsyncStream, "start")


async def test_client_aclose_closes() -> None:
    """await client.aclose() closes the client like close()."""
    client = AsyncDosAI(api_key="k", base_url="http://127.0.0.1:9")
    await client.aclose()
    assert client.is_closed
