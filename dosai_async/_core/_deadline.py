"""``Deadline``: the monotonic end of a call, shared by the retry loop and a stream's reads.

Its own module (not ``_retry``'s) so that streams can bound their reads by it without
importing tenacity's wrapper.
"""

from __future__ import annotations

import time


class Deadline:
    """The monotonic end of a call; ``None`` means unbounded."""

    __slots__ = ("end",)

    def __init__(self, seconds: float | None) -> None:
        self.end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` when unbounded."""
        return None if self.end is None else max(self.end - time.monotonic(), 0.0)
