"""Byte stream -> UTF-8 lines (CRLF, LF or CR), the first stage of the SSE decoder.

Sans-I/O like ``_sse`` (which re-exports these names); its own module to keep each under the
size limit. See ``_sse``'s docstring for the plan: split at the byte level, decode complete
lines with one ``bytes.decode``, keep an unterminated line as pieces joined once.
"""

import sys

#: The default bound of one line, and of one event's buffered lines, in bytes: 16 MiB is far
#: above any real chunk (a whole long answer is a few hundred KiB) and far below harm.
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024

CR = 0x0D
LF = 0x0A


class EventTooLarge(ValueError):
    """A line, or an event's lines, grew past the decoder's ``max_event_size`` bytes.

    ``size`` is how many bytes were buffered when the decoder gave up (at least ``limit``
    plus one), ``what`` is ``"line"`` or ``"event"``.
    """

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"an event-stream {what} grew past {limit:,} bytes ({size:,} bytes buffered) "
            "without ending"
        )
        self.what = what
        self.size = size
        self.limit = limit


def limit(max_size: int | None) -> int:
    """``max_size`` checked, with None (no limit) as a number every size is below."""
    if max_size is None:
        return sys.maxsize
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise ValueError(f"max_event_size must be a positive int or None, not {max_size!r}")
    return max_size


class LineDecoder:
    """Split a byte stream into UTF-8 lines that end at CRLF, LF or CR, and at nothing else.

    ``feed`` returns the lines that a chunk completes, and ``flush`` ends the input
    and returns the unterminated final line, if there is one. Lines come without their line
    endings, decoded with errors="replace". Raises ``EventTooLarge`` only when the
    unterminated line grows past ``max_line_size`` bytes (``None``: no limit).
    """

    __slots__ = ("_after_cr", "_max", "_pending", "_pending_size")

    def __init__(self, max_line_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> None:
        self._max = limit(max_line_size)
        # Pieces of the unterminated line: joining them only once its line ending arrives
        # keeps a long line O(n).
        self._pending: list[bytes] = []
        self._pending_size = 0  # their total length, checked against _max as they come
        # The last chunk ended with CR, so an LF starting the next one belongs to that CR.
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        """Return the lines that ``chunk`` completes (maybe none), without line endings."""
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk[0] == LF:
                chunk = chunk[1:]
        if not chunk:
            return []
        last = chunk[-1]
        if last != LF and last != CR:
            return self._feed_unterminated(chunk)
        self._after_cr = last == CR
        if self._pending:
            chunk = self._take_pending(chunk)
        return _split_lines(chunk)

    @property
    def at_line_start(self) -> bool:
        """Whether the next byte starts a new line: no partial line, and no CR awaiting its LF."""
        return not self._pending and not self._after_cr

    def flush(self) -> list[str]:
        """End the input: return the unterminated final line as a one-item list, else []."""
        self._after_cr = False
        if not self._pending:
            return []
        return [self._take_pending(b"").decode("utf-8", "replace")]

    def _feed_unterminated(self, chunk: bytes) -> list[str]:
        """Split a chunk that ends inside a line, and keep that line's start for later."""
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if not end:
            self._keep(chunk)
            return []
        complete = chunk[:end]
        if self._pending:
            complete = self._take_pending(complete)
        self._keep(chunk[end:])
        return _split_lines(complete)

    def _keep(self, piece: bytes) -> None:
        """Buffer a piece of the unterminated line, within the size limit."""
        self._pending.append(piece)
        self._pending_size += len(piece)
        if self._pending_size > self._max:
            size, self._pending_size = self._pending_size, 0
            self._pending.clear()  # the decoder is done: free the memory now
            raise EventTooLarge("line", size, self._max)

    def _take_pending(self, end: bytes) -> bytes:
        """Join the pending pieces of a line with ``end``, the bytes that finish it."""
        pending = self._pending
        pending.append(end)
        joined = b"".join(pending)
        pending.clear()
        self._pending_size = 0
        return joined


def _split_lines(block: bytes) -> list[str]:
    """Decode ``block``, which ends with a line ending, into its lines."""
    text = block.decode("utf-8", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:  # most servers that use CR at all use CRLF: skip a second scan
            text = text.replace("\r", "\n")
    lines = text.split("\n")
    del lines[-1]  # the "" after the final line ending
    return lines
