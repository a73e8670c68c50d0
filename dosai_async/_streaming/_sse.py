"""Sans-I/O decoder for ``text/event-stream`` bodies (Server-Sent Events).

Bytes go in, ``ServerSentEvent`` values come out. Nothing here knows about sockets,
HTTP, JSON or asyncio: ``_streaming.py`` reads the body and hands each chunk to
``SSEDecoder.feed``.

Goals:

- Follow the WHATWG "interpreting an event stream" algorithm
  (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
  whatever the chunk boundaries are: a CRLF, a multi-byte UTF-8 character or the BOM may be
  split between two chunks.
- Be cheap on the streaming hot path: a small chunk holding one whole event costs well under
  a microsecond, and a huge line fed in many chunks costs O(n), not O(n**2).
- Never raise for what the bytes say: garbage, invalid UTF-8, NULs and long lines are just
  data to the algorithm (a malformed line is ignored, an invalid byte sequence decodes to
  U+FFFD). Only size raises: a line or an event that outgrows ``max_event_size`` raises
  ``EventTooLarge``, so a hostile body (bytes without a line ending, or data lines without
  a blank line) cannot grow the buffers without bound.
- Check that size only where something is buffered across reads: when a chunk ends inside a
  line, or inside an event. A chunk of whole events (the fast path) pays nothing for it.

Plan:

- Split into lines at the byte level. CR and LF are ASCII bytes, which never occur inside a
  multi-byte UTF-8 sequence, so every complete line decodes on its own, and U+2028 or U+0085
  cannot be taken for a line end (``str.splitlines`` would take them).
- Decode all the complete lines of a chunk with one ``bytes.decode`` call, then split the text
  at LF after folding CRLF and CR into LF. With errors="replace" the decoder never lets an
  invalid sequence swallow a CR or LF, so this equals decoding line by line.
- Keep an unterminated line as a list of pieces, joined once when its line ending arrives.
- Remember a CR that ended a chunk, so that an LF at the start of the next chunk completes
  the same CRLF instead of ending a second, empty line.
- Strip the BOM from the first line of the stream rather than from the first chunk, so a BOM
  split between chunks is still seen whole.
- Take a chunk that is exactly one event, a ``data: ...`` line and a blank line ended by LF
  (the shape OpenAI-style servers send), without splitting it into lines when no line or
  block is open; a chunk of many such events (a fast server, a slow reader) by one split at
  ``\n\ndata: `` once counting LFs shows there is no other line. A read that ends inside an
  event leaves that event to the general path, and the next read returns to the fast path
  after its first blank line. Elsewhere, test for ``data: `` before general field parsing.
"""

from typing import NamedTuple

from ._lines import (
    CR,
    DEFAULT_MAX_EVENT_SIZE,
    LF,
    EventTooLarge,
    LineDecoder,
    limit,
)

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "EventTooLarge",
    "LineDecoder",
    "SSEDecoder",
    "ServerSentEvent",
]

_BOM = "\ufeff"
_new_event = tuple.__new__  # a named tuple without its Python __new__: 2/3 of the cost
# What does not count as content for SSEDecoder.data_seen (CR and LF never reach a line).
_BLANK = " \t\v\f" + _BOM


class ServerSentEvent(NamedTuple):
    """One dispatched event.

    ``id`` is the MessageEvent ``lastEventId`` at dispatch: it carries over from earlier
    events, and "" means none was set. ``retry`` is the valid ``retry:`` value given in this
    event's own block, else None; the lasting value is ``SSEDecoder.reconnection_time``.

    A named tuple rather than a frozen attrs class: one is built per event on the streaming
    hot path, and a tuple is immutable at a third of the construction cost.
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Incremental WHATWG event-stream parser: bytes in, ``ServerSentEvent`` values out.

    Give each chunk of the body to ``feed`` as it arrives, and call ``flush`` once at
    the end. One decoder parses one stream: to reconnect, start a new decoder and send this
    one's ``last_event_id`` as the ``Last-Event-ID`` header.

    Never raises for what the bytes say: invalid UTF-8 decodes to U+FFFD, and lines the
    algorithm does not understand are ignored. A ``retry:`` value too long for ``int()``
    (over the interpreter's digit limit, 4300 digits by default) is ignored too.

    ``max_event_size`` (bytes, 16 MiB by default, ``None`` for no limit) bounds memory: a
    line that grows past it without a line ending, or an event whose lines grow past it
    without a blank line, raises ``EventTooLarge``. The event's count is of the reads
    that it spans whole, so it may start counting up to one read late; together the two
    bounds hold the buffers under twice the limit plus one read.
    """

    __slots__ = (
        "_at_start",
        "_comment_count",
        "_data",
        "_data_seen",
        "_event",
        "_id_buffer",
        "_idle",
        "_last_event_id",
        "_lines",
        "_max",
        "_open_size",
        "_reconnection_time",
        "_retry",
    )

    def __init__(self, max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> None:
        self._lines = LineDecoder(max_event_size)
        self._max = limit(max_event_size)
        self._open_size = 0  # bytes of the reads an open event has spanned (see _bound_event)
        self._at_start = True  # the next line is the stream's first: it may start with a BOM
        # The data buffer, one item per data line, so dispatch is a single "\n".join.
        self._data: list[str] = []
        self._event = ""  # the event type buffer
        self._retry: int | None = None  # valid retry: of the current block
        self._id_buffer = ""
        self._last_event_id = ""
        self._reconnection_time: int | None = None
        self._comment_count = 0
        self._data_seen = False
        # Nothing is open: no partial line, no CR awaiting its LF, no data in the block, and
        # the stream's start (BOM) and first content line are behind us. Then a chunk that is
        # one whole "data:" event needs no line splitting. Only the general path changes it.
        self._idle = False

    @property
    def last_event_id(self) -> str:
        """The id committed by the latest blank line ("" = none): the ``Last-Event-ID``."""
        return self._last_event_id

    @property
    def last_event_id_buffer(self) -> str:
        """The id from the latest valid ``id:`` line, whether a blank line committed it or not."""
        return self._id_buffer

    @property
    def reconnection_time(self) -> int | None:
        """The latest valid ``retry:`` value in milliseconds, or None if there was none."""
        return self._reconnection_time

    @property
    def comment_count(self) -> int:
        """How many comment lines (keep-alives such as ``: ping``) the stream held so far."""
        return self._comment_count

    @property
    def data_seen(self) -> bool:
        """Whether a line other than a blank, whitespace-only or comment line was seen.

        When no event was dispatched, this tells a body that is no event stream at all (a JSON
        error sent as ``text/event-stream``, say) from an empty or keep-alive-only one. A line
        counts once it is complete; an unterminated final line counts when ``flush`` runs.
        """
        return self._data_seen

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Return the events that ``chunk`` completes: often none, sometimes several."""
        if not self._idle:
            if not (self._at_start and chunk[:6] == b"data: " and self._lines.at_line_start):
                return self._feed_open(chunk)
            # The stream's first line is a data line: no BOM to strip, content seen, nothing
            # open. The first read (a stream's time to first token) takes the fast paths too.
            self._at_start, self._data_seen, self._idle = False, True, True
        # Fast path for the usual chunk, one whole "data: <payload>\n\n" event. When nothing
        # is open (see _idle) it gives what the general path gives, minus the line splitting.
        if (
            chunk[:6] == b"data: "
            and chunk[-2:] == b"\n\n"
            and LF not in (payload := chunk[6:-2])
            and CR not in payload
        ):
            return [self._dispatch(payload.decode("utf-8", "replace"))]
        return self._feed_events(chunk)

    def _feed_events(self, chunk: bytes) -> list[ServerSentEvent]:
        """Nothing is open: take the whole one-``data:``-line events that start ``chunk`` with
        one split at the blank lines, and the rest (if any) on the general path."""
        end = chunk.rfind(b"\n\n") + 2
        if end < 8 or chunk[:6] != b"data: ":
            return self._feed_lines(chunk)
        body = chunk[6 : end - 2]
        # Every LF belongs to a "\n\ndata: " separator: each event is one data line.
        if CR in body or body.count(b"\n") != 2 * body.count(b"\n\ndata: "):
            return self._feed_lines(chunk)
        datas = body.decode("utf-8", "replace").split("\n\ndata: ")
        last_id = self._id_buffer
        events = [_new_event(ServerSentEvent, ("message", data, last_id, None)) for data in datas]
        events[0] = self._dispatch(datas[0])  # the block may have had event: or retry: lines
        if end < len(chunk):
            events += self._feed_lines(chunk[end:])
        return events

    def _feed_open(self, chunk: bytes) -> list[ServerSentEvent]:
        """Something is open (a partial line, say): finish it on the general path up to the
        first blank line, then take the rest by ``feed``'s fast paths if nothing is open."""
        end = chunk.find(b"\n\n") + 2
        if end < 2 or chunk.rfind(b"\n\n") < end:  # no whole event after the first
            return self._feed_lines(chunk)
        events = self._feed_lines(chunk[:end])
        rest = chunk[end:]
        return events + (self._feed_events(rest) if self._idle else self._feed_lines(rest))

    def flush(self) -> list[ServerSentEvent]:
        """End the stream. WHATWG discards an unterminated event, so this returns []."""
        unterminated = self._lines.flush()
        if not self._data_seen:
            self._data_seen = _has_content(unterminated)
        # Discard the unterminated event, but do not commit its id: no blank line ended it.
        self._data.clear()
        self._event = ""
        self._retry = None
        return []

    def _feed_lines(self, chunk: bytes) -> list[ServerSentEvent]:
        """The general path: split ``chunk`` into lines, and interpret them."""
        was_open = bool(self._data)
        lines = self._lines.feed(chunk)
        if self._at_start and lines:
            self._strip_bom(lines)
        if not self._data_seen:
            self._data_seen = _has_content(lines)
        events = self._interpret(lines)
        if self._data:  # an event stays open past this read
            self._idle = False
            self._bound_event(len(chunk) if was_open and not events else 0)
        else:
            self._idle = self._data_seen and not self._at_start and self._lines.at_line_start
        return events

    def _bound_event(self, spanned: int) -> None:
        """Count a read that an open event spanned whole (0: the event began in this read)."""
        size = self._open_size = self._open_size + spanned if spanned else 0
        if size > self._max:
            self._open_size = 0
            self._data.clear()  # the decoder is done: free the memory now
            raise EventTooLarge("event", size, self._max)

    def _strip_bom(self, lines: list[str]) -> None:
        """Drop one BOM from the start of the stream (and only there, as WHATWG says)."""
        self._at_start = False
        if lines[0].startswith(_BOM):
            lines[0] = lines[0][1:]

    def _interpret(self, lines: list[str]) -> list[ServerSentEvent]:
        """Run complete lines through the algorithm, and collect the events they dispatch."""
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(self._dispatch("\n".join(data)))
                    data.clear()
                else:
                    self._end_block()
            elif line.startswith("data: "):  # by far the most common line: skip the parsing
                data.append(line[6:])
            elif line[0] == ":":
                self._comment_count += 1
            else:
                self._process_field(line)
        return events

    def _dispatch(self, data: str) -> ServerSentEvent:
        """End a block that has data: build its event, and commit its id like any blank line."""
        event = ServerSentEvent(self._event or "message", data, self._id_buffer, self._retry)
        # _end_block, inlined because this runs once per event:
        self._last_event_id = self._id_buffer
        self._event = ""
        self._retry = None
        return event

    def _end_block(self) -> None:
        """End a block at a blank line: commit its id (even with no event) and reset the rest."""
        self._last_event_id = self._id_buffer
        self._event = ""
        self._retry = None

    def _process_field(self, line: str) -> None:
        """Apply a ``name:value`` line; a line with no colon is a name with an empty value."""
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:  # a NUL would make the id unusable as a header value
                self._id_buffer = value
        elif name == "retry":
            self._set_retry(value)
        # Any other name is ignored, as the algorithm says.

    def _set_retry(self, value: str) -> None:
        """Take a ``retry:`` value only if it is all ASCII digits."""
        if not (value.isascii() and value.isdigit()):
            return
        try:
            milliseconds = int(value)
        except ValueError:  # past the int-from-str digit limit: ignore rather than raise
            return
        self._retry = self._reconnection_time = milliseconds


def _has_content(lines: list[str]) -> bool:
    """Whether a line is more than blanks, BOMs or a comment (see SSEDecoder.data_seen)."""
    return any(line[:1] != ":" and line.strip(_BLANK) for line in lines)
