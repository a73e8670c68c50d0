"""Checked by mypy --strict, never executed: structured outputs and tools as users write them."""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict, assert_type

import attrs
import pydantic

from dosai_async import (
    AsyncDosAI,
    ChatCompletion,
    FunctionToolSpec,
    ParsedChatCompletion,
    ParsedFunctionToolCall,
    ParsedStream,
    ToolRunResult,
    pydantic_function_tool,
    tool,
)


@attrs.frozen
class Weather:
    city: str
    celsius: float


async def parsed(client: AsyncDosAI) -> None:
    done = await client.chat.completions.parse(messages=[], response_format=Weather)
    assert_type(done, ParsedChatCompletion[Weather])
    assert_type(done.choices[0].message.parsed, Weather | None)
    assert_type(done.choices[0].message.refusal, str | None)
    plain: ChatCompletion = done  # a parsed completion is a completion
    loose = await client.chat.completions.parse(
        messages=[], response_format={"type": "json_object"}, temperature=0
    )
    assert_type(loose.choices[0].message.parsed, Any | None)
    async with client.chat.completions.stream_parse(messages=[], response_format=Weather) as s:
        assert_type(s, ParsedStream[Weather])
        assert_type(await s.final_parsed(), Weather | None)
        assert_type(await s.final(), ParsedChatCompletion[Weather])
    del plain


def get_weather(city: str) -> Weather:
    return Weather(city, 21.0)


async def tools(client: AsyncDosAI) -> None:
    spec = tool(get_weather)
    assert_type(spec("Paris"), Weather)
    named = tool(name="weather", strict=True)(get_weather)
    reusable: FunctionToolSpec[[str], Weather] = named
    assert_type(named.name, str)
    result = await client.chat.completions.run_tools(
        messages=[{"role": "user", "content": "hi"}],
        tools=[get_weather, named],
        tool_choice="required",
        parallel_tool_calls=True,
        max_rounds=3,
    )
    assert_type(result, ToolRunResult)
    assert_type(result.content, str | None)
    del reusable


# --- the user's own types (issue #13): pydantic, dataclasses, TypedDicts, attrs ------------


class PydanticWeather(pydantic.BaseModel):
    city: str
    celsius: float


@dataclasses.dataclass(frozen=True)
class DataclassWeather:
    city: str
    celsius: float


class DictWeather(TypedDict):
    city: str
    celsius: float


async def user_types(client: AsyncDosAI) -> None:
    completions = client.chat.completions
    p = await completions.parse(messages=[], response_format=PydanticWeather)
    assert_type(p.choices[0].message.parsed, PydanticWeather | None)
    d = await completions.parse(messages=[], response_format=DataclassWeather)
    assert_type(d.choices[0].message.parsed, DataclassWeather | None)
    t = await completions.parse(messages=[], response_format=DictWeather)
    assert_type(t.choices[0].message.parsed, DictWeather | None)
    async with completions.stream_parse(messages=[], response_format=PydanticWeather) as s:
        assert_type(await s.final_parsed(), PydanticWeather | None)
    await completions.parse(messages=[], response_format=int)  # type: ignore[type-var]
    await completions.parse(messages=[], response_format=str)  # type: ignore[type-var]

    as_tool = pydantic_function_tool(PydanticWeather, name="weather", description="Weather.")
    done = await completions.parse(
        messages=[], response_format=Weather, tools=[as_tool, PydanticWeather, tool(get_weather)]
    )
    calls = done.choices[0].message.tool_calls or []
    assert_type(calls[0], ParsedFunctionToolCall)
    assert_type(calls[0].function.parsed_arguments, object | None)

    # create() and stream() take the same objects and send their wire form.
    await completions.create(messages=[], response_format=PydanticWeather)
    await completions.create(messages=[], response_format=DictWeather, tools=[tool(get_weather)])
    async with completions.stream(messages=[], response_format=DataclassWeather) as stream:
        del stream
    await completions.create(messages=[], response_format=int)  # type: ignore[arg-type]
    await completions.create(messages=[], tools=[int])  # type: ignore[list-item]

    def book(trip: PydanticWeather) -> PydanticWeather:
        return trip

    await completions.run_tools(messages=[], tools=[book, tool(book)])
