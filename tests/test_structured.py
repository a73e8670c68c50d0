"""Structured outputs: parse() and stream_parse() against the emulator and scripted servers."""

from __future__ import annotations

import enum
import typing
from typing import Any, Literal

import attrs
import pytest

from dosai_async import (
    AsyncDosAI,
    BadRequestError,
    ChatCompletion,
    CompletionParams,
    ResponseValidationError,
)
from dosai_async._models._params import ParseParams, ToolRunParams
from dosai_async._structured._normalize import normalize
from dosai_async._structured._output import (
    ParsedChatCompletion,
    StructuredOutputError,
)
from dosai_async._structured._schema import response_format_for
from dosai_async.testing import DosAIEmulator

from .conftest import COMPLETION, Scripted

USER = [{"role": "user", "content": "What is the weather in Paris?"}]


class Sky(enum.Enum):
    """What the sky looks like."""

    SUNNY = "sunny"
    RAIN = "rain"


@attrs.frozen
class Day:
    """One day of a forecast."""

    high: float
    sky: Sky
    wind: int = 0


@attrs.frozen
class Weather:
    """A weather report.

    Attributes:
        city: The city the report is for.
    """

    city: str
    celsius: float
    unit: Literal["c", "f"] = "c"
    days: list[Day] = attrs.Factory(list)
    note: str | None = None
    gusts: int | None = 5


@attrs.frozen
class Reply:
    """A class with a field name the converter reserves for its own models."""

    response: str


@attrs.frozen
class Forecast:
    """A class whose default is an attrs instance, with a field outside __init__."""

    city: str
    today: Day = Day(20, Sky.SUNNY)
    label: str = attrs.field(init=False, default="forecast")


# --- fixtures and helpers ----------------------------------------------------------------


def answer(content: str | None, finish_reason: str = "stop", **message: Any) -> dict[str, Any]:
    """A completion body whose only message has this content."""
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": content, **message},
        "finish_reason": finish_reason,
    }
    return {**COMPLETION, "choices": [choice]}


PARIS = '{"city": "Paris", "celsius": 21.5, "unit": "c", "days": [], "note": null, "gusts": 3}'


# --- parse() against the emulator --------------------------------------------------------


async def test_parse_returns_an_instance_of_the_class(dos: AsyncDosAI) -> None:
    """parse(response_format=Weather) gives message.parsed as a Weather."""
    done = await dos.chat.completions.parse(messages=USER, response_format=Weather)
    assert isinstance(done.choices[0].message.parsed, Weather)


async def test_parse_nested_classes_and_enums_are_structured(dos: AsyncDosAI) -> None:
    """Nested attrs classes and enums in the JSON become instances, not dicts or strings."""
    done = await dos.chat.completions.parse(messages=USER, response_format=Weather)
    weather = done.choices[0].message.parsed
    assert weather is not None
    assert all(isinstance(day, Day) and isinstance(day.sky, Sky) for day in weather.days)


async def test_parse_sends_the_strict_json_schema(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """The request carries response_format_for(cls, strict=True)."""
    await dos.chat.completions.parse(messages=USER, response_format=Weather)
    assert emu.requests[-1].body["response_format"] == response_format_for(Weather, strict=True)


async def test_parsed_completion_is_a_chat_completion(dos: AsyncDosAI) -> None:
    """The result keeps every completion field and is a ChatCompletion."""
    done = await dos.chat.completions.parse(messages=USER, response_format=Weather)
    assert isinstance(done, ParsedChatCompletion)
    assert isinstance(done, ChatCompletion)
    assert done.id.startswith("chatcmpl-")
    assert done.usage is not None
    assert done.usage.cost is not None
    assert done.request_id is not None


async def test_parse_json_mode_gives_the_decoded_json(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """With {"type": "json_object"} the format is sent as is and parsed is the dict."""
    done = await dos.chat.completions.parse(
        messages=[{"role": "user", "content": "Answer in JSON."}],
        response_format={"type": "json_object"},
    )
    assert emu.requests[-1].body["response_format"] == {"type": "json_object"}
    assert isinstance(done.choices[0].message.parsed, dict)


async def test_parse_passes_other_parameters_through(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """Sampling parameters reach the body beside the response format."""
    await dos.chat.completions.parse(
        messages=USER, response_format=Weather, temperature=0.1, seed=7
    )
    body = emu.requests[-1].body
    assert (body["temperature"], body["seed"]) == (0.1, 7)


async def test_parse_cut_off_by_max_tokens_says_so(dos: AsyncDosAI) -> None:
    """Truncated JSON with finish_reason length names max_tokens and keeps the content."""
    with pytest.raises(StructuredOutputError, match="cut off by max_tokens") as caught:
        await dos.chat.completions.parse(messages=USER, response_format=Weather, max_tokens=4)
    assert caught.value.finish_reason == "length"
    assert (caught.value.content or "").startswith("{")


async def test_stream_parse_final_parsed_is_an_instance(dos: AsyncDosAI) -> None:
    """stream_parse(...).final_parsed() gives the parsed object after the stream."""
    async with dos.chat.completions.stream_parse(messages=USER, response_format=Weather) as s:
        assert isinstance(await s.final_parsed(), Weather)


async def test_stream_parse_text_then_final(dos: AsyncDosAI) -> None:
    """The JSON text streams through text(); final() parses what accumulated."""
    async with dos.chat.completions.stream_parse(messages=USER, response_format=Weather) as s:
        text = "".join([piece async for piece in s.text()])
        done = await s.final()
    assert done.choices[0].message.content == text
    assert isinstance(done.choices[0].message.parsed, Weather)


async def test_stream_parse_sends_the_format_and_stream(
    dos: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """The streamed request carries stream=true and the strict schema."""
    async with dos.chat.completions.stream_parse(messages=USER, response_format=Weather) as s:
        await s.final()
    body = emu.requests[-1].body
    assert body["stream"] is True
    assert body["response_format"]["json_schema"]["strict"] is True


# --- parse() against exact replies -------------------------------------------------------


async def test_invalid_json_raises_with_the_raw_content(
    client: AsyncDosAI, server: Scripted
) -> None:
    """Content that is not JSON raises StructuredOutputError carrying the text."""
    server.reply(body=answer("Sure! The weather is nice."))
    with pytest.raises(StructuredOutputError, match="not valid JSON") as caught:
        await client.chat.completions.parse(messages=USER, response_format=Weather)
    assert caught.value.content == "Sure! The weather is nice."


async def test_wrong_shape_names_the_field_path(client: AsyncDosAI, server: Scripted) -> None:
    """JSON of the wrong shape raises with the path of the field that does not fit."""
    server.reply(body=answer('{"city": "Paris", "celsius": "warm"}'))
    with pytest.raises(StructuredOutputError, match=r"Weather\.celsius") as caught:
        await client.chat.completions.parse(messages=USER, response_format=Weather)
    assert caught.value.path == "Weather.celsius"
    assert caught.value.content == '{"city": "Paris", "celsius": "warm"}'


async def test_nested_wrong_shape_names_the_nested_path(
    client: AsyncDosAI, server: Scripted
) -> None:
    """A bad value inside a list of nested objects is named by its full path."""
    days = '[{"high": 20, "sky": "sunny", "wind": 1}, {"high": 18, "sky": "snow", "wind": 2}]'
    server.reply(body=answer(f'{{"city": "Paris", "celsius": 20, "days": {days}}}'))
    with pytest.raises(StructuredOutputError) as caught:
        await client.chat.completions.parse(messages=USER, response_format=Weather)
    assert caught.value.path == "Weather.days[1].sky"


async def test_missing_field_is_reported(client: AsyncDosAI, server: Scripted) -> None:
    """A required field that is absent is named."""
    server.reply(body=answer('{"celsius": 20}'))
    with pytest.raises(StructuredOutputError, match="required field missing") as caught:
        await client.chat.completions.parse(messages=USER, response_format=Weather)
    assert caught.value.path == "Weather.city"


async def test_structured_output_error_is_a_response_validation_error(
    client: AsyncDosAI, server: Scripted
) -> None:
    """Callers catching ResponseValidationError also catch structured-output failures."""
    server.reply(body=answer("[1, 2"))
    with pytest.raises(ResponseValidationError):
        await client.chat.completions.parse(messages=USER, response_format=Weather)


async def test_refusal_is_not_a_parse_error(client: AsyncDosAI, server: Scripted) -> None:
    """A refusal gives parsed None and keeps the refusal text."""
    server.reply(body=answer(None, refusal="I can't help with that."))
    done = await client.chat.completions.parse(messages=USER, response_format=Weather)
    message = done.choices[0].message
    assert (message.parsed, message.refusal) == (None, "I can't help with that.")


async def test_tool_calls_instead_of_content_give_parsed_none(
    client: AsyncDosAI, server: Scripted
) -> None:
    """A message that called tools has nothing to parse and is not an error."""
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    server.reply(body=answer(None, "tool_calls", tool_calls=[call]))
    done = await client.chat.completions.parse(messages=USER, response_format=Weather)
    assert done.choices[0].message.parsed is None
    assert done.choices[0].message.tool_calls is not None


async def test_empty_content_raises(client: AsyncDosAI, server: Scripted) -> None:
    """No content at all (and no refusal) is an error, not a silent None."""
    server.reply(body=answer(""))
    with pytest.raises(StructuredOutputError, match="no content"):
        await client.chat.completions.parse(messages=USER, response_format=Weather)


async def test_empty_content_cut_off_mentions_max_tokens(
    client: AsyncDosAI, server: Scripted
) -> None:
    """Thinking that used up max_tokens (empty content, length) says so."""
    server.reply(body=answer("", "length", reasoning="Let me think"))
    with pytest.raises(StructuredOutputError, match="max_tokens"):
        await client.chat.completions.parse(messages=USER, response_format=Weather)


async def test_null_for_a_defaulted_field_means_the_default(
    client: AsyncDosAI, server: Scripted
) -> None:
    """Strict mode's null for a defaulted non-nullable field gives the field's default."""
    server.reply(body=answer('{"city": "Paris", "celsius": 20, "unit": null, "days": null}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Weather)
    weather = done.choices[0].message.parsed
    assert weather is not None
    assert (weather.unit, weather.days) == ("c", [])


async def test_null_for_a_nullable_field_stays_none(client: AsyncDosAI, server: Scripted) -> None:
    """When the field's type accepts None, null is a value and not the default."""
    server.reply(body=answer('{"city": "Paris", "celsius": 20, "gusts": null}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Weather)
    weather = done.choices[0].message.parsed
    assert weather is not None
    assert weather.gusts is None


async def test_null_defaults_apply_in_nested_objects(client: AsyncDosAI, server: Scripted) -> None:
    """Nulls for defaulted fields inside nested objects in lists also mean the default."""
    days = '[{"high": 20, "sky": "rain", "wind": null}]'
    server.reply(body=answer(f'{{"city": "Paris", "celsius": 20, "days": {days}}}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Weather)
    weather = done.choices[0].message.parsed
    assert weather is not None
    assert weather.days == [Day(20, Sky.RAIN, 0)]


async def test_unknown_keys_are_ignored(client: AsyncDosAI, server: Scripted) -> None:
    """Keys the class has no field for are dropped instead of failing."""
    server.reply(body=answer('{"city": "Paris", "celsius": 20, "humidity": 0.4}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Weather)
    assert done.choices[0].message.parsed == Weather("Paris", 20)


async def test_every_choice_is_parsed(client: AsyncDosAI, server: Scripted) -> None:
    """With n=2 each choice carries its own parsed object."""
    lyon = PARIS.replace("Paris", "Lyon")
    choices = [
        {"index": i, "message": {"role": "assistant", "content": c}, "finish_reason": "stop"}
        for i, c in enumerate([PARIS, lyon])
    ]
    server.reply(body={**COMPLETION, "choices": choices})
    done = await client.chat.completions.parse(messages=USER, response_format=Weather, n=2)
    cities = [c.message.parsed.city for c in done.choices if c.message.parsed is not None]
    assert cities == ["Paris", "Lyon"]


async def test_own_json_schema_format_gives_the_decoded_json(
    client: AsyncDosAI, server: Scripted
) -> None:
    """A json_schema mapping is sent unchanged and parsed is the decoded JSON."""
    fmt = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}}
    server.reply(body=answer(PARIS))
    done = await client.chat.completions.parse(messages=USER, response_format=fmt)
    assert server.requests[0]["json"]["response_format"] == fmt
    assert done.choices[0].message.parsed["city"] == "Paris"


async def test_http_errors_pass_through(client: AsyncDosAI, server: Scripted) -> None:
    """parse() reuses the request pipeline: a 400 is a BadRequestError."""
    server.reply(400, {"error": {"message": "bad schema", "type": "invalid_request_error"}})
    with pytest.raises(BadRequestError, match="bad schema"):
        await client.chat.completions.parse(messages=USER, response_format=Weather)


async def test_non_attrs_class_is_refused_before_any_request(
    client: AsyncDosAI, server: Scripted
) -> None:
    """A class that is not an attrs class raises TypeError and sends nothing."""
    with pytest.raises(TypeError, match="attrs class"):
        await client.chat.completions.parse(messages=USER, response_format=dict)
    assert server.requests == []


async def test_text_format_is_refused(client: AsyncDosAI, server: Scripted) -> None:
    """parse() needs JSON: {"type": "text"} raises ValueError and sends nothing."""
    with pytest.raises(ValueError, match="json_object"):
        await client.chat.completions.parse(messages=USER, response_format={"type": "text"})
    assert server.requests == []


async def test_field_named_response_is_parsed(client: AsyncDosAI, server: Scripted) -> None:
    """A user class may have a field called `response` (a name the converter reserves)."""
    server.reply(body=answer('{"response": "yes"}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Reply)
    assert done.choices[0].message.parsed == Reply("yes")


async def test_attrs_instance_default_applies(client: AsyncDosAI, server: Scripted) -> None:
    """A field whose default is an attrs instance gets it when the model sends null."""
    server.reply(body=answer('{"city": "Paris", "today": null}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Forecast)
    assert done.choices[0].message.parsed == Forecast("Paris")


async def test_init_false_fields_are_left_alone(client: AsyncDosAI, server: Scripted) -> None:
    """A field outside __init__ is neither in the schema nor read from the JSON."""
    server.reply(body=answer('{"city": "Paris", "today": {"high": 1, "sky": "rain"}}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Forecast)
    assert done.choices[0].message.parsed == Forecast("Paris", Day(1, Sky.RAIN))


# --- normalize and the parameter TypedDicts ----------------------------------------------


def test_normalize_recurses_through_dicts_and_optionals() -> None:
    """Nulls for defaults are dropped inside dict values and optional nested objects."""
    data = {"a": {"high": 1.0, "sky": "rain", "wind": None}}
    assert normalize(data, dict[str, Day | None]) == {"a": {"high": 1.0, "sky": "rain"}}


def test_normalize_leaves_other_values_alone() -> None:
    """Plain values and types without attrs classes come back unchanged."""
    assert normalize([1, None, "x"], list[int | None]) == [1, None, "x"]


@pytest.mark.parametrize(
    ("params", "named"), [(ParseParams, "response_format"), (ToolRunParams, "tools")]
)
def test_params_are_completion_params_minus_the_named_one(params: Any, named: str) -> None:
    """ParseParams and ToolRunParams stay equal, key and type, to CompletionParams minus one."""
    expected = typing.get_type_hints(CompletionParams)
    del expected[named]
    assert typing.get_type_hints(params) == expected
