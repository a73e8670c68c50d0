"""``StreamStats``: the live figures of a stream (time to first token, gaps, tokens/s)."""

from __future__ import annotations

import time

import attrs

from ._accumulate import ChunkAccumulator


@attrs.frozen
class StreamStats:
    """Live figures of a stream (all times in seconds, from when the request was sent).

    ``tokens_per_second`` (once ``usage`` arrived) is the completion tokens over the time
    from the first content to the last event: the generation rate a reader sees. When the
    whole answer arrived in one read (a local or cached reply) that span is zero, and the
    rate is taken over the time since the request was sent instead.
    """

    time_to_first_token: float | None
    chunks: int
    elapsed: float
    max_gap: float | None
    mean_gap: float | None
    completion_tokens: int | None
    tokens_per_second: float | None


def stream_stats(
    acc: ChunkAccumulator, *, sent: float, first: float | None, last: float, max_gap: float
) -> StreamStats:
    """The figures of a stream from its accumulator and clock readings (``time.monotonic``)."""
    chunks = acc.chunks
    usage = acc.usage
    tokens = usage.completion_tokens if usage is not None else None
    streaming_time = last - first if first is not None else 0.0
    rate_time = streaming_time or (last - sent)
    return StreamStats(
        time_to_first_token=None if first is None else first - sent,
        chunks=chunks,
        elapsed=time.monotonic() - sent,
        max_gap=max_gap if chunks > 1 else None,
        mean_gap=streaming_time / (chunks - 1) if chunks > 1 else None,
        completion_tokens=tokens,
        tokens_per_second=tokens / rate_time if tokens and rate_time > 0 else None,
    )
