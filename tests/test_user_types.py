"""The user's own types where types go in: pydantic models, dataclasses, TypedDicts, attrs.

parse(), stream_parse(), run_tools(), tool() and pydantic_function_tool() take each kind, over
loopback against the emulator (which answers with JSON valid against the schema it is sent,
and calls the tools it is given); pydantic schemas are compared with the openai SDK's own.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Literal, NotRequired, TypedDict

import attrs
import openai
import pydantic
import pytest
from openai.lib._pydantic import to_strict_json_schema

from dosai_async import (
    AsyncDosAI,
    ParsedFunction,
    PydanticFunctionTool,
    SchemaError,
    StructuredOutputError,
    ToolArgumentsError,
    ToolMessage,
    json_schema,
    pydantic_function_tool,
    tool,
)
from dosai_async.testing import DosAIEmulator

from .conftest import COMPLETION, Scripted

USER = [{"role": "user", "content": "What is the weather in Paris?"}]


class Sky(enum.Enum):
    """What the sky looks like."""

    SUNNY = "sunny"
    RAIN = "rain"


# --- pydantic ------------------------------------------------------------------------------


class PDay(pydantic.BaseModel):
    """One day of a forecast."""

    high: float
    sky: Sky


class PWeather(pydantic.BaseModel):
    """A weather report."""

    city: str = pydantic.Field(description="The city the report is for.")
    unit: Literal["c", "f"]
    days: list[PDay]
    today: PDay = pydantic.Field(description="Today's weather.")  # a $ref with a sibling
    note: str | None = None


class PNode(pydantic.BaseModel):
    """A recursive model."""

    name: str
    children: list[PNode]


class PTrip(pydantic.BaseModel):
    """Book a trip."""

    city: str
    nights: int
    sky: Sky | None


# --- dataclasses, TypedDicts, attrs --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DDay:
    """One day of a forecast."""

    high: float
    sky: Sky


@dataclasses.dataclass(frozen=True)
class DWeather:
    """A weather report.

    Attributes:
        city: The city the report is for.
    """

    city: str
    days: list[DDay]
    note: str | None = None
    wind: int = 3
    tags: list[str] = dataclasses.field(default_factory=list)


class TDay(TypedDict):
    high: float
    sky: Sky


# The functional form: this module's string annotations would hide NotRequired (Python 3.11).
TWeather = TypedDict(  # noqa: UP013  # the class form would hide NotRequired on 3.11
    "TWeather", {"city": str, "days": list[TDay], "note": NotRequired[str]}
)


class Hidden(TypedDict):
    """NotRequired in a string annotation, which Python 3.11's TypedDict cannot see."""

    note: NotRequired[str]


@attrs.frozen
class AWeather:
    """An attrs class with a dataclass and a pydantic model inside."""

    city: str
    today: DDay
    trip: PTrip | None


KINDS = [PWeather, DWeather, AWeather]


# --- parse() -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
async def test_parse_returns_an_instance_of_each_kind(dos: AsyncDosAI, cls: type[Any]) -> None:
    """parse(response_format=cls) gives message.parsed as a cls, for every kind of class."""
    done = await dos.chat.completions.parse(messages=USER, response_format=cls)
    assert isinstance(done.choices[0].message.parsed, cls)


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
async def test_a_parsed_completion_dumps_like_the_wire(dos: AsyncDosAI, cls: type[Any]) -> None:
    """model_dump(), model_dump_json(), to_dict() and to_json() work on parse()'s result (a
    generic ``ParsedChatCompletion[T]``) and give the wire body, as for a plain completion."""
    done = await dos.chat.completions.parse(messages=USER, response_format=cls)
    dumped = done.to_dict()
    assert dumped["choices"][0]["message"]["content"] == done.choices[0].message.content
    assert json.loads(done.to_json()) == dumped
    # model_dump* write unset fields as None (openai's defaults); to_dict leaves them out.
    full = json.loads(done.model_dump_json())
    assert full["choices"][0]["message"]["content"] == done.choices[0].message.content
    assert done.model_dump() == full


async def test_parse_pydantic_nested_enums_and_lists(dos: AsyncDosAI) -> None:
    """A pydantic model's nested models, enums and lists are validated by pydantic."""
    weather = (
        (await dos.chat.completions.parse(messages=USER, response_format=PWeather))
        .choices[0]
        .message.parsed
    )
    assert weather is not None
    assert isinstance(weather.today, PDay)
    assert isinstance(weather.today.sky, Sky)
    assert all(isinstance(day, PDay) for day in weather.days)
    assert weather.unit in ("c", "f")


async def test_parse_dataclass_nested_enums_and_lists(dos: AsyncDosAI) -> None:
    """A dataclass's nested dataclasses and enums are structured; defaults fill nulls."""
    weather = (
        (await dos.chat.completions.parse(messages=USER, response_format=DWeather))
        .choices[0]
        .message.parsed
    )
    assert weather is not None
    assert all(isinstance(day, DDay) and isinstance(day.sky, Sky) for day in weather.days)
    assert isinstance(weather.wind, int)
    assert isinstance(weather.tags, list)


async def test_parse_typeddict_gives_a_dict_of_the_shape(dos: AsyncDosAI) -> None:
    """A TypedDict response format gives a dict with its keys; enums are members."""
    done = await dos.chat.completions.parse(messages=USER, response_format=TWeather)
    weather = done.choices[0].message.parsed
    assert isinstance(weather, dict)
    assert isinstance(weather["city"], str)
    assert all(isinstance(day["sky"], Sky) for day in weather["days"])


async def test_attrs_class_with_dataclass_and_pydantic_inside(dos: AsyncDosAI) -> None:
    """A dataclass and a pydantic model nested in an attrs class become their instances."""
    done = await dos.chat.completions.parse(messages=USER, response_format=AWeather)
    weather = done.choices[0].message.parsed
    assert weather is not None
    assert isinstance(weather.today, DDay)
    assert isinstance(weather.trip, PTrip)


async def test_parse_sends_openais_schema_for_pydantic(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """The request's response_format is what openai's parse() would send for the model."""
    await dos.chat.completions.parse(messages=USER, response_format=PWeather)
    sent = emu.requests[-1].body["response_format"]
    assert sent == {
        "type": "json_schema",
        "json_schema": {
            "name": "PWeather",
            "strict": True,
            "schema": to_strict_json_schema(PWeather),
        },
    }


async def test_typeddict_null_for_a_key_not_required_leaves_it_out(
    client: AsyncDosAI, server: Scripted
) -> None:
    """A strict schema makes NotRequired keys nullable; null means the key is absent."""
    server.reply(body=_answer('{"city": "Paris", "days": [], "note": null}'))
    done = await client.chat.completions.parse(messages=USER, response_format=TWeather)
    assert done.choices[0].message.parsed == {"city": "Paris", "days": []}


async def test_pydantic_content_that_does_not_fit_names_the_path(
    client: AsyncDosAI, server: Scripted
) -> None:
    """pydantic's findings become StructuredOutputError.errors with the field path."""
    bad = {"city": "Paris", "unit": "c", "days": [{"high": "hot", "sky": "rain"}]}
    server.reply(body=_answer(json.dumps(bad | {"today": {"high": 1, "sky": "rain"}})))
    with pytest.raises(StructuredOutputError) as caught:
        await client.chat.completions.parse(messages=USER, response_format=PWeather)
    assert caught.value.path == "PWeather.days.0.high"
    assert "PWeather" in caught.value.message


async def test_pydantic_is_validated_in_json_mode(client: AsyncDosAI, server: Scripted) -> None:
    """Like openai, content is validated with model_validate_json (strict models read enums)."""

    class Strict(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(strict=True)
        sky: Sky

    server.reply(body=_answer('{"sky": "rain"}'))
    done = await client.chat.completions.parse(messages=USER, response_format=Strict)
    assert done.choices[0].message.parsed == Strict(sky=Sky.RAIN)


# --- stream_parse() ------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [PWeather, DWeather], ids=lambda c: c.__name__)
async def test_stream_parse_final_parsed_of_each_kind(dos: AsyncDosAI, cls: type[Any]) -> None:
    """stream_parse() with a pydantic model or a dataclass ends with an instance."""
    async with dos.chat.completions.stream_parse(messages=USER, response_format=cls) as stream:
        text = "".join([piece async for piece in stream.text()])
        parsed = await stream.final_parsed()
    assert isinstance(parsed, cls)
    assert json.loads(text)


# --- tools -----------------------------------------------------------------------------------


async def test_run_tools_with_a_pydantic_typed_argument(dos: AsyncDosAI) -> None:
    """A tool parameter annotated with a pydantic model arrives as an instance."""
    seen: list[object] = []

    def book(trip: PTrip) -> PTrip:
        """Book a trip."""
        seen.append(trip)
        return trip  # a pydantic result is sent back as JSON

    result = await dos.chat.completions.run_tools(messages=USER, tools=[book])
    assert len(seen) == 1
    assert isinstance(seen[0], PTrip)
    sent = result.messages[2]
    assert isinstance(sent, ToolMessage)
    assert PTrip.model_validate_json(sent.content) == seen[0]


def test_tool_schema_of_a_pydantic_parameter_is_openais() -> None:
    """tool(f) describes a pydantic-typed parameter with the model's strict schema."""

    def book(trip: PTrip) -> str:
        """Book a trip."""
        return "ok"

    parameters = tool(book, strict=True).to_tool()["function"]["parameters"]
    assert parameters["properties"]["trip"] == {"$ref": "#/$defs/PTrip"}
    own = to_strict_json_schema(PTrip)
    assert parameters["$defs"]["PTrip"] == {k: v for k, v in own.items() if k != "$defs"}
    assert parameters["$defs"]["Sky"] == own["$defs"]["Sky"]


def test_tool_arguments_that_do_not_fit_a_pydantic_parameter_name_the_path() -> None:
    """parse_arguments reports pydantic's findings with the parameter's path."""

    def book(trip: PTrip) -> str:
        return "ok"

    with pytest.raises(ToolArgumentsError, match=r"nights: Input should be .* @ book.trip"):
        tool(book).parse_arguments('{"trip": {"city": "Paris", "nights": "many", "sky": null}}')


@pytest.mark.parametrize("model", [PTrip, PWeather, PNode], ids=lambda c: c.__name__)
def test_pydantic_function_tool_matches_openais(model: type[pydantic.BaseModel]) -> None:
    """pydantic_function_tool(M) builds the same tool as openai.pydantic_function_tool(M)."""
    ours = pydantic_function_tool(model, name="the_tool")
    theirs = openai.pydantic_function_tool(model, name="the_tool")
    assert ours == theirs
    assert isinstance(ours["function"], PydanticFunctionTool)


@pytest.mark.parametrize("model", [PWeather, PNode, PTrip], ids=lambda c: c.__name__)
def test_strict_schema_of_pydantic_models_matches_openais(model: type[pydantic.BaseModel]) -> None:
    """json_schema(M) for a pydantic model is openai's to_strict_json_schema(M)."""
    assert json_schema(model) == to_strict_json_schema(model)


def test_pydantic_function_tool_takes_dataclasses_and_typeddicts() -> None:
    """The helper takes every kind of class; the description is the class docstring."""
    function = pydantic_function_tool(DWeather)["function"]
    assert function["description"].startswith("A weather report.")
    assert function["parameters"]["additionalProperties"] is False
    assert pydantic_function_tool(TDay)["function"]["parameters"]["required"] == ["high", "sky"]


@pytest.mark.parametrize(
    "given",
    [lambda: pydantic_function_tool(PTrip), lambda: PTrip],
    ids=["pydantic_function_tool", "class"],
)
async def test_parse_gives_parsed_arguments_as_instances(dos: AsyncDosAI, given: Any) -> None:
    """Tool calls of a pydantic tool carry function.parsed_arguments as a model instance."""
    done = await dos.chat.completions.parse(
        messages=USER, response_format=PWeather, tools=[given()], tool_choice="required"
    )
    calls = done.choices[0].message.tool_calls
    assert calls
    assert isinstance(calls[0].function, ParsedFunction)
    assert isinstance(calls[0].function.parsed_arguments, PTrip)
    assert done.choices[0].message.parsed is None  # it called a tool instead of answering


async def test_parse_gives_keyword_arguments_for_tool_specs(dos: AsyncDosAI) -> None:
    """For a tool(f) spec, parsed_arguments holds f's keyword arguments, typed."""

    def book(trip: PTrip, nights: int) -> str:
        return "ok"

    done = await dos.chat.completions.parse(
        messages=USER, response_format=PWeather, tools=[tool(book, strict=True)]
    )
    calls = done.choices[0].message.tool_calls
    assert calls
    arguments = calls[0].function.parsed_arguments
    assert isinstance(arguments, dict)
    assert isinstance(arguments["trip"], PTrip)


# --- create() and stream() take the same objects ----------------------------------------


async def test_create_converts_a_class_response_format(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """create(response_format=Model) sends the strict json_schema format, not an error."""
    done = await dos.chat.completions.create(messages=USER, response_format=PWeather)
    sent = emu.requests[-1].body["response_format"]
    assert sent["json_schema"]["schema"] == to_strict_json_schema(PWeather)
    PWeather.model_validate_json(done.choices[0].message.content or "")


async def test_create_converts_tool_objects(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """tools=[tool(f), Model, f] are sent as their tools entries."""

    def book(trip: PTrip) -> str:
        """Book a trip."""
        return "ok"

    def nights() -> int:
        return 1

    done = await dos.chat.completions.create(messages=USER, tools=[tool(book), PTrip, nights])
    names = [t["function"]["name"] for t in emu.requests[-1].body["tools"]]
    assert names == ["book", "PTrip", "nights"]
    assert done.choices[0].message.tool_calls


async def test_stream_converts_a_class_response_format(dos: AsyncDosAI) -> None:
    """stream(response_format=Model) streams JSON that the model validates."""
    async with dos.chat.completions.stream(messages=USER, response_format=DWeather) as stream:
        text = "".join([piece async for piece in stream.text()])
    assert json.loads(text)["city"]


# --- unsupported types -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [int, dict, object, "json_object"])
async def test_unsupported_response_format_is_a_clear_type_error(
    client: AsyncDosAI, server: Scripted, bad: Any
) -> None:
    """parse() and create() name the kinds they take; no request is made."""
    with pytest.raises(TypeError, match="pydantic model, a dataclass, a TypedDict or an attrs"):
        await client.chat.completions.parse(messages=USER, response_format=bad)
    with pytest.raises(TypeError, match="pydantic model, a dataclass, a TypedDict or an attrs"):
        await client.chat.completions.create(messages=USER, response_format=bad)
    assert server.requests == []


async def test_unsupported_tool_is_a_clear_type_error(client: AsyncDosAI, server: Scripted) -> None:
    """tools=[int] says which position is wrong and what tools may be."""
    with pytest.raises(TypeError, match=r"tools\[1\] must be a tool dict, tool\(f\)"):
        await client.chat.completions.create(messages=USER, tools=[PTrip, int])
    assert server.requests == []


@pytest.mark.skipif(
    "note" not in Hidden.__required_keys__, reason="this Python reads NotRequired from strings"
)
def test_notrequired_hidden_by_string_annotations_is_a_clear_error() -> None:
    """A TypedDict whose NotRequired Python missed raises SchemaError saying why."""
    with pytest.raises(SchemaError, match=r"Hidden.note: Python cannot see NotRequired"):
        pydantic_function_tool(Hidden)


def _answer(content: str) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}}
    return {**COMPLETION, "choices": [choice | {"finish_reason": "stop"}]}
