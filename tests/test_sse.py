"""Tests for the sans-I/O SSE decoder: the shared conformance vectors, then properties."""

import base64
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosai_async._streaming._sse import EventTooLarge, LineDecoder, ServerSentEvent, SSEDecoder
from tests.conftest import CONFORMANCE

MISSING = f"SSE conformance vectors not found under {CONFORMANCE}: see tests/data/ORIGIN.md"
# A placeholder parameter, so that a missing corpus fails the tests instead of skipping them.
ABSENT = "corpus-missing"


def _load_vectors() -> dict[str, dict[str, Any]]:
    paths = sorted((CONFORMANCE / "sse").glob("*.json"))
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in paths}


def _load_line_cases() -> dict[str, dict[str, Any]]:
    path = CONFORMANCE / "sse-lines" / "httpx-sse-line-decoder.json"
    if not path.is_file():
        return {}
    return {case["name"]: case for case in json.loads(path.read_text(encoding="utf-8"))["cases"]}


VECTORS = _load_vectors()
LINE_CASES = _load_line_cases()


def _names(
    table: dict[str, dict[str, Any]], keep: Callable[[dict[str, Any]], bool] = lambda _: True
) -> list[str]:
    """Names of the entries that ``keep`` accepts; the placeholder if there are none."""
    return [name for name, entry in table.items() if keep(entry)] or [ABSENT]


def _entry(table: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name == ABSENT:
        pytest.fail(MISSING)
    return table[name]


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """Cut ``data`` at the given offsets."""
    bounds = [0, *sorted(set(cuts)), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def _decode(chunks: Iterable[bytes]) -> tuple[SSEDecoder, list[ServerSentEvent]]:
    """Feed every chunk, then flush, as a client does over one whole body."""
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    events += decoder.flush()
    return decoder, events


def _state(decoder: SSEDecoder) -> tuple[object, ...]:
    return (
        decoder.last_event_id,
        decoder.last_event_id_buffer,
        decoder.reconnection_time,
        decoder.comment_count,
        decoder.data_seen,
    )


def _check_vector(vector: dict[str, Any], chunks: Iterable[bytes]) -> None:
    """Compare the events and final state with what the vector expects."""
    decoder, events = _decode(chunks)
    assert [event._asdict() for event in events] == vector["expected_events"]
    final_state = {
        "last_event_id_buffer": decoder.last_event_id_buffer,
        "reconnection_time": decoder.reconnection_time,
    }
    assert final_state == vector["expected_final_state"]
    if "expected_comments" in vector:
        assert decoder.comment_count == len(vector["expected_comments"])


def test_conformance_corpus_is_present() -> None:
    """The shared SSE vectors and line cases are where CI puts them."""
    assert VECTORS, MISSING
    assert LINE_CASES, MISSING


@pytest.mark.parametrize("name", _names(VECTORS))
def test_vector_fed_whole(name: str) -> None:
    """Each vector decodes as expected when the body arrives in one chunk."""
    vector = _entry(VECTORS, name)
    _check_vector(vector, [_b64(vector["input_b64"])])


@pytest.mark.parametrize("name", _names(VECTORS))
def test_vector_fed_byte_by_byte(name: str) -> None:
    """Each vector decodes as expected one byte at a time (splits CRLF, UTF-8 and BOM)."""
    vector = _entry(VECTORS, name)
    data = _b64(vector["input_b64"])
    _check_vector(vector, [data[i : i + 1] for i in range(len(data))])


@pytest.mark.parametrize("name", _names(VECTORS))
def test_vector_fed_at_random_splits(name: str) -> None:
    """Each vector decodes as expected when cut at seeded random offsets."""
    vector = _entry(VECTORS, name)
    data = _b64(vector["input_b64"])
    offsets = range(1, len(data))
    rng = random.Random(name)
    for _ in range(5):
        cuts = rng.sample(offsets, min(len(offsets), rng.randint(1, 8)))
        _check_vector(vector, _split_at(data, cuts))


@pytest.mark.parametrize("name", _names(VECTORS, lambda vector: "input_chunks_b64" in vector))
def test_vector_fed_in_source_chunks(name: str) -> None:
    """Each vector that records its source's chunks decodes as expected in those chunks."""
    vector = _entry(VECTORS, name)
    _check_vector(vector, [_b64(chunk) for chunk in vector["input_chunks_b64"]])


@pytest.mark.parametrize("name", _names(LINE_CASES, lambda case: case["mode"] == "splitlines"))
def test_line_case_splitlines(name: str) -> None:
    """A single chunk splits into the expected lines (a final line ending adds no line)."""
    case = _entry(LINE_CASES, name)
    (chunk,) = case["input_chunks_b64"]
    decoder = LineDecoder()
    assert decoder.feed(_b64(chunk)) + decoder.flush() == case["expected_lines"]


@pytest.mark.parametrize(
    "name", _names(LINE_CASES, lambda case: case["mode"] == "decoder-with-flush")
)
def test_line_case_decoder_with_flush(name: str) -> None:
    """Chunks fed in turn, then a flush, give the expected lines, the unterminated one too."""
    case = _entry(LINE_CASES, name)
    decoder = LineDecoder()
    lines = [line for chunk in case["input_chunks_b64"] for line in decoder.feed(_b64(chunk))]
    assert lines + decoder.flush() == case["expected_lines"]


def test_cr_and_lf_in_separate_chunks_are_one_line_ending() -> None:
    """A CR ending one chunk and an LF starting the next end a single line."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n\r\n") == [ServerSentEvent(data="a\nb")]


def test_unicode_line_separators_do_not_end_lines() -> None:
    """U+2028, U+2029 and U+0085 are data, not line endings."""
    _, events = _decode(["data: a\u2028b\u2029c\x85d\n\n".encode()])
    assert events == [ServerSentEvent(data="a\u2028b\u2029c\x85d")]


def test_invalid_utf8_decodes_to_replacement_characters() -> None:
    """Invalid UTF-8 becomes U+FFFD and never hides the line ending after it."""
    _, events = _decode([b"data: \xff\xf0\x9f\x98\n\n"])
    assert events == [ServerSentEvent(data="\ufffd\ufffd")]


def test_fields_from_earlier_chunks_apply_to_a_whole_event_chunk() -> None:
    """event, id and retry lines in earlier chunks apply to a later one-chunk event."""
    chunks = [b"data: first\n\n", b"event: tick\n", b"id: 7\n", b"retry: 50\n", b"data: x\n\n"]
    _, events = _decode(chunks)
    assert events[1] == ServerSentEvent(event="tick", data="x", id="7", retry=50)


def test_data_lines_from_earlier_chunks_join_a_whole_event_chunk() -> None:
    """A data line in an earlier chunk is joined with the data of a later one."""
    _, events = _decode([b"data: a\n\n", b"data: b\n", b"data: c\n\n"])
    assert events == [ServerSentEvent(data="a"), ServerSentEvent(data="b\nc")]


_MANY_EVENTS = [
    b"data: first\n\n",
    b"event: tick\nid: 7\nretry: 50\n",
    *(b"data: %d \xc3\xa9\n\n" % i for i in range(40)),
    b"data: \n\n",
    b"data: a\ndata: b\n\n",
    b": ping\n\n",
    b"data: crlf\r\n\r\n",
    *(b"data: %d\n\n" % i for i in range(40)),
]


@pytest.mark.parametrize("size", [1, 7, 16, 64, 150, 400, 10_000])
def test_reads_of_many_whole_events_decode_as_byte_by_byte(size: int) -> None:
    """Reads holding many events (the split fast path), or ending inside one, or holding
    other fields, give the events and state that byte-by-byte feeding gives."""
    body = b"".join(_MANY_EVENTS)
    expected_decoder, expected = _decode(_split_at(body, range(1, len(body))))
    decoder, events = _decode(_split_at(body, range(size, len(body), size)))
    assert events == expected
    assert _state(decoder) == _state(expected_decoder)
    assert events[1] == ServerSentEvent(event="tick", data="0 \u00e9", id="7", retry=50)
    assert len(events) == 84


def test_flush_discards_an_unterminated_event() -> None:
    """At end of stream, an event without its blank line is dropped (WHATWG)."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: kept\n\ndata: dropped\n") == [ServerSentEvent(data="kept")]
    assert decoder.flush() == []


def test_last_event_id_is_committed_only_by_a_blank_line() -> None:
    """An id line sets the buffer at once, but last_event_id only at the blank line."""
    decoder = SSEDecoder()
    decoder.feed(b"id: 7\ndata: x\n")
    assert (decoder.last_event_id_buffer, decoder.last_event_id) == ("7", "")
    decoder.feed(b"\n")
    assert decoder.last_event_id == "7"


def test_blank_line_commits_the_id_without_an_event() -> None:
    """An id-only block dispatches nothing but still sets last_event_id."""
    decoder, events = _decode([b"id: 5\n\n"])
    assert (events, decoder.last_event_id) == ([], "5")


def test_retry_with_non_ascii_digits_is_ignored() -> None:
    """Only ASCII digits make a valid retry value, not other Unicode digits."""
    decoder, _ = _decode(["retry: \u0661\u0662\n\n".encode()])
    assert decoder.reconnection_time is None


def test_comment_lines_are_counted() -> None:
    """Each comment line, keep-alives included, adds one to comment_count."""
    decoder, _ = _decode([b": ping\r\n\r\n:\ndata: x\n: trailing\n\n"])
    assert decoder.comment_count == 3


def test_keep_alives_alone_are_no_data() -> None:
    """A body of comments, blank lines and whitespace leaves data_seen False."""
    decoder, _ = _decode([b"\xef\xbb\xbf: ping\n\n  \t\n\n: pong"])
    assert decoder.data_seen is False


def test_a_body_that_is_not_an_event_stream_is_data() -> None:
    """An unterminated JSON error body sets data_seen once the stream is flushed."""
    decoder = SSEDecoder()
    decoder.feed(b'{"error": {"message": "boom"}}')
    decoder.flush()
    assert decoder.data_seen is True


def test_retry_too_long_for_int_is_ignored() -> None:
    """A retry value past Python's int-from-str digit limit is ignored, not raised."""
    decoder, _ = _decode([b"retry: 1000\n\nretry: " + b"9" * 5000 + b"\n\n"])
    assert decoder.reconnection_time == 1000


def test_long_line_in_small_chunks_costs_linear_time() -> None:
    """A 4 MB line fed in 1 KiB chunks costs a few times its cost fed whole, not O(n**2)."""
    # A comment first: the whole body then goes line by line too (a body that starts with its
    # data line would take the fast path whole, a far lower baseline than the chunks can have).
    body = b": comment\n" + b"data: " + b"x" * (4 * 2**20) + b"\n\n"
    chunks = _split_at(body, range(2**10, len(body), 2**10))

    def best_of_three(pieces: list[bytes]) -> float:
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            _decode(pieces)
            timings.append(time.perf_counter() - start)
        return min(timings)

    # Linear: about 3x (per-chunk overhead). Re-joining the growing line on every chunk would
    # copy 4096 x 2 MB, about 60x.
    assert best_of_three(chunks) < 15 * best_of_three([body])


# Any text without CR or LF, leaning on characters that the syntax gives a meaning to.
_VALUE = st.text(st.sampled_from(" :\0\ufeff\u2028\x85xé🙂"), max_size=8) | st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12
)
_BLOCK = st.tuples(
    st.none() | _VALUE,  # event type
    st.none() | _VALUE.filter(lambda value: "\0" not in value),  # id
    st.lists(_VALUE, min_size=1, max_size=3),  # data lines
)
_ENDINGS = ("\n", "\r", "\r\n")
# Byte soup that is likely to form SSE syntax, and to break it.
_TOKENS = st.sampled_from(
    b"data:|data: |event:|id:|retry:|1|:| |x|\0|\n|\r|\r\n|\xef\xbb\xbf|\xc3|\xa9|\xff".split(b"|")
)
_BYTES = st.binary(max_size=200) | st.lists(_TOKENS, max_size=80).map(b"".join)


def _serialize(blocks: list[tuple[str | None, str | None, list[str]]], endings: list[str]) -> str:
    """Write blocks as an event stream, ending the n-th line with endings[n % len]."""
    lines = []
    for event_type, event_id, data_lines in blocks:
        if event_type is not None:
            lines.append(f"event: {event_type}")
        if event_id is not None:
            lines.append(f"id: {event_id}")
        lines += [f"data: {line}" for line in data_lines] + [""]
    text, previous = "", ""
    for n, line in enumerate(lines):
        ending = endings[n % len(endings)]
        if not line and previous == "\r" and ending == "\n":
            ending = "\r\n"  # else the CR and this LF would make one line ending, not two
        text += line + ending
        previous = ending
    return text


def _expected(blocks: list[tuple[str | None, str | None, list[str]]]) -> list[ServerSentEvent]:
    events, last_id = [], ""
    for event_type, event_id, data_lines in blocks:
        last_id = last_id if event_id is None else event_id
        events.append(ServerSentEvent(event_type or "message", "\n".join(data_lines), last_id))
    return events


@settings(max_examples=200, deadline=None)
@given(
    blocks=st.lists(_BLOCK, max_size=5),
    endings=st.lists(st.sampled_from(_ENDINGS), min_size=1, max_size=4),
    data=st.data(),
)
def test_events_round_trip_through_any_line_endings_and_chunking(
    blocks: list[tuple[str | None, str | None, list[str]]], endings: list[str], data: st.DataObject
) -> None:
    """Serialized events decode back to themselves, however the bytes are chunked."""
    body = _serialize(blocks, endings).encode()
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    assert _decode([body])[1] == _expected(blocks)
    assert _decode(_split_at(body, cuts))[1] == _expected(blocks)


@settings(max_examples=200, deadline=None)
@given(blocks=st.lists(_BLOCK, max_size=5))
def test_one_chunk_per_event_matches_the_whole_body(
    blocks: list[tuple[str | None, str | None, list[str]]],
) -> None:
    """Feeding one LF-framed event per chunk (the fast path) gives the whole-body result."""
    chunks = [_serialize([block], ["\n"]).encode() for block in blocks]
    assert _decode(chunks)[1] == _decode([b"".join(chunks)])[1] == _expected(blocks)


@settings(max_examples=200, deadline=None)
@given(body=_BYTES, data=st.data())
def test_any_bytes_decode_the_same_however_chunked(body: bytes, data: st.DataObject) -> None:
    """Arbitrary bytes never raise, and chunking never changes the events or final state."""
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    whole_decoder, whole_events = _decode([body])
    split_decoder, split_events = _decode(_split_at(body, cuts))
    assert split_events == whole_events
    assert _state(split_decoder) == _state(whole_decoder)


@settings(max_examples=200, deadline=None)
@given(body=_BYTES, data=st.data())
def test_line_decoder_matches_a_regex_split(body: bytes, data: st.DataObject) -> None:
    """LineDecoder, chunked anyhow, splits exactly where CRLF, LF or CR are."""
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    expected = re.split(rb"\r\n|\r|\n", body)
    if not expected[-1]:
        del expected[-1]  # a final line ending ends a line; it does not start one
    decoder = LineDecoder()
    lines = [line for chunk in _split_at(body, cuts) for line in decoder.feed(chunk)]
    assert lines + decoder.flush() == [line.decode("utf-8", "replace") for line in expected]


# -- the size limit (max_event_size) ------------------------------------------------------------


def test_an_unterminated_line_may_reach_the_limit_but_not_pass_it() -> None:
    """The bytes of a line still open are counted across chunks; one past the limit raises."""
    lines = LineDecoder(max_line_size=10)
    assert lines.feed(b"12345") == []
    assert lines.feed(b"67890") == []  # exactly the limit: still fine
    with pytest.raises(EventTooLarge) as info:
        lines.feed(b"1")
    assert (info.value.what, info.value.size, info.value.limit) == ("line", 11, 10)
    assert "line grew past 10 bytes (11 bytes buffered)" in str(info.value)


def test_the_line_count_restarts_at_each_line_ending() -> None:
    """Many lines, each within the limit, pass however much they add up to."""
    lines = LineDecoder(max_line_size=10)
    assert lines.feed(b"x" * 8) == []
    assert lines.feed(b"xx\r" + b"y" * 10) == ["x" * 10]
    assert lines.feed(b"\nzzzz") == ["y" * 10]
    assert lines.feed(b"z" * 6) == []
    assert lines.flush() == ["z" * 10]


def test_an_event_of_data_lines_without_a_blank_line_is_bounded() -> None:
    """Complete data lines that never end their event count against the same limit."""
    decoder = SSEDecoder(max_event_size=100)
    assert decoder.feed(b"data: " + b"a" * 90 + b"\n") == []  # the event opens here
    lines = b"data: b\n" * 6  # 48 bytes a read
    assert decoder.feed(lines) == []
    assert decoder.feed(lines) == []  # 96
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(lines)
    assert (info.value.what, info.value.size) == ("event", 144)


def test_a_blank_line_restarts_the_event_count() -> None:
    """Events within the limit, however many and however split, all dispatch."""
    decoder = SSEDecoder(max_event_size=100)
    events = []
    for _ in range(50):
        events += decoder.feed(b"data: " + b"c" * 40 + b"\n")
        events += decoder.feed(b"data: " + b"c" * 40 + b"\n")
        events += decoder.feed(b"\n")
    assert len(events) == 50
    assert events[0].data == "c" * 40 + "\n" + "c" * 40


def test_no_limit() -> None:
    """``max_event_size=None``: a line of any size is buffered."""
    decoder = SSEDecoder(max_event_size=None)
    for _ in range(100):
        assert decoder.feed(b"y" * 100_000) == []
    assert decoder.feed(b"\n") == []


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_the_limit_must_be_a_positive_int(bad: Any) -> None:
    """Zero, negatives, floats and bools are refused when the decoder is made."""
    with pytest.raises(ValueError, match="max_event_size must be a positive int or None"):
        SSEDecoder(max_event_size=bad)


@settings(max_examples=200, deadline=None)
@given(body=_BYTES, data=st.data())
def test_a_limit_of_the_whole_body_never_fires(body: bytes, data: st.DataObject) -> None:
    """Nothing counts more bytes than were fed: no false alarm however the body is split."""
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    limited, unlimited = SSEDecoder(max(len(body), 1)), SSEDecoder(None)
    for chunk in _split_at(body, cuts):
        assert limited.feed(chunk) == unlimited.feed(chunk)
