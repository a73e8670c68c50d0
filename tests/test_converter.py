"""The converter: generated fast hooks agree with plain cattrs, unknown fields survive."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dosai_async as d
from dosai_async._models import _converter
from tests.conftest import conformance_dir


def _detailed(data: Any, cls: type) -> Any:
    return _converter._detailed.structure(data, cls)


def _chunk_payloads() -> list[Any]:
    payloads = []
    for path in sorted(conformance_dir("streams").glob("*.sse")):
        for line in path.read_bytes().splitlines():
            if line.startswith(b"data:") and line.strip() != b"data: [DONE]":
                try:
                    payload = json.loads(line[5:])
                except ValueError:
                    continue
                if isinstance(payload, dict) and "error" not in payload:
                    payloads.append(payload)
    return payloads


def test_fast_hooks_match_cattrs_on_every_recorded_chunk() -> None:
    """Every recorded chunk structures to the same object through both converters."""
    payloads = _chunk_payloads()
    assert len(payloads) > 1000
    structure = _converter.structurer(d.ChatCompletionChunk)
    for payload in payloads:
        assert structure(payload) == _detailed(payload, d.ChatCompletionChunk)


def test_unknown_fields_survive_a_round_trip() -> None:
    """Vendor extras at every level are kept in .extra and written back by unstructure."""
    payload = {
        "id": "c",
        "x_groq": {"id": "g"},
        "choices": [
            {"index": 0, "delta": {"content": "a", "channel": "analysis"}, "native": "stop"}
        ],
    }
    chunk = _converter.structure(payload, d.ChatCompletionChunk)
    assert chunk.extra == {"x_groq": {"id": "g"}}
    assert chunk.choices[0].extra == {"native": "stop"}
    assert chunk.choices[0].delta.extra == {"channel": "analysis"}
    plain = _converter.unstructure(chunk)
    assert plain["x_groq"] == {"id": "g"}
    assert plain["choices"][0]["delta"]["channel"] == "analysis"


@pytest.mark.parametrize(
    "payload",
    [
        {"choices": [{"index": None}]},
        {"choices": "nope"},
        {"created": "yesterday"},
        {"choices": [{"delta": {"role": None, "tool_calls": [{"index": "0"}]}}]},
        [],
    ],
)
def test_misfits_raise_with_a_path(payload: Any) -> None:
    """Bodies that do not fit raise ResponseValidationError naming where."""
    with pytest.raises(d.ResponseValidationError, match="ChatCompletionChunk"):
        _converter.structure(payload, d.ChatCompletionChunk)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5))
_delta = st.fixed_dictionaries(
    {},
    optional={
        "role": _scalars,
        "content": _scalars,
        "reasoning": _scalars,
        "reasoning_content": _scalars,
        "refusal": _scalars,
        "tool_calls": st.one_of(
            st.none(),
            st.lists(
                st.fixed_dictionaries(
                    {"index": _scalars}, optional={"id": _scalars, "function": st.none()}
                ),
                max_size=2,
            ),
        ),
        "other": _scalars,
    },
)
_chunk = st.fixed_dictionaries(
    {},
    optional={
        "id": _scalars,
        "created": _scalars,
        "choices": st.lists(
            st.fixed_dictionaries(
                {}, optional={"index": _scalars, "delta": _delta, "finish_reason": _scalars}
            ),
            max_size=2,
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(_chunk)
def test_fast_and_detailed_agree_on_arbitrary_chunks(payload: dict[str, Any]) -> None:
    """For arbitrary chunk-like JSON, both converters accept (equal results) or both reject."""
    try:
        fast = _converter.structure(payload, d.ChatCompletionChunk)
    except d.ResponseValidationError:
        with pytest.raises(Exception):  # noqa: B017 - any cattrs error is a rejection
            _detailed(payload, d.ChatCompletionChunk)
        return
    assert fast == _detailed(payload, d.ChatCompletionChunk)


def test_chunks_built_through_their_dict_are_frozen_and_equal() -> None:
    """The stream's models are built by one dict store (see ``_codegen``), not ``__init__``:
    the result equals the ``__init__``-built value and refuses assignment the same way."""
    payload = {"id": "c", "choices": [{"index": 0, "delta": {"content": "a"}}], "created": 1}
    chunk = _converter.structure(payload, d.ChatCompletionChunk)
    delta = d.ChoiceDelta(content="a")
    expected = d.ChatCompletionChunk(id="c", created=1, choices=[d.ChunkChoice(delta=delta)])
    assert chunk == expected
    assert chunk.choices[0].delta.role is None
    for model in (chunk, chunk.choices[0], chunk.choices[0].delta):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            model.extra = {}  # type: ignore[misc]
    # A delta's usual payload takes the shortcut; one with a non-string goes field by field.
    with pytest.raises(d.ResponseValidationError, match="content"):
        _converter.structure({"choices": [{"delta": {"content": 1}}]}, d.ChatCompletionChunk)


@attrs.frozen
class _Inner:
    level: int = 1


@attrs.frozen
class _UserClass:
    response: str
    extra: int = 0
    inner: _Inner = _Inner()
    computed: str = attrs.field(init=False, default="fixed")


def test_user_classes_keep_reserved_names_and_defaults() -> None:
    """A user's fields named response/extra are read; attrs defaults and init=False hold."""
    value = _converter.structure({"response": "yes", "extra": 2}, _UserClass)
    assert value == _UserClass("yes", 2)
    assert value.inner == _Inner()
    assert value.computed == "fixed"
    assert _converter.unstructure(value)["response"] == "yes"


def test_user_class_is_not_mutated() -> None:
    """Structuring leaves a user's class annotations as they were written."""
    assert attrs.fields(_UserClass).response.type in (str, "str")


def test_to_dict_is_the_inverse_of_parsing() -> None:
    """to_dict() gives back the server's JSON minus nulls, unknown fields included."""
    payload = {"id": "c", "choices": [{"index": 0, "delta": {"content": "a"}}], "x_v": 1}
    chunk = _converter.structure(payload, d.ChatCompletionChunk)
    plain = d.to_dict(chunk)
    assert plain["x_v"] == 1
    assert plain["choices"][0]["delta"] == {"content": "a"}
    with pytest.raises(TypeError, match="to_dict"):
        d.to_dict({"not": "a model"})


def test_models_built_by_generated_hooks_stay_frozen() -> None:
    """Objects built slot by slot are as frozen, and equal to, those built by __init__."""
    payload = {"id": "c", "choices": [{"index": 0, "delta": {"content": "a"}}]}
    chunk = _converter.structure(payload, d.ChatCompletionChunk)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        chunk.id = "other"  # type: ignore[misc]
    expected = d.ChatCompletionChunk(
        id="c", choices=[d.ChunkChoice(index=0, delta=d.ChoiceDelta(content="a"))]
    )
    assert chunk == expected
    assert chunk.extra is expected.extra
