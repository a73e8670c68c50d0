"""Checked by mypy --strict, never executed: structured outputs and tools as users write them."""

from __future__ import annotations

from typing import Any, assert_type

import attrs

from dosai_async import (
    AsyncDosAI,
    ChatCompletion,
    FunctionToolSpec,
    ParsedChatCompletion,
    ParsedStream,
    ToolRunResult,
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
