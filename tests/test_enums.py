"""Enums in structured outputs and tool arguments come back as members, not plain values."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosai_async import (
    AsyncDosAI,
    ResponseValidationError,
    StructuredOutputError,
    ToolArgumentsError,
    tool,
)
from dosai_async._models import _converter

from .conftest import COMPLETION, Scripted

USER = [{"role": "user", "content": "Describe the sky."}]


class Sky(enum.StrEnum):
    """A StrEnum: a str subclass."""

    SUNNY = "sunny"
    RAIN = "rain"


class Level(enum.IntEnum):
    """An IntEnum: an int subclass."""

    LOW = 1
    HIGH = 2


class Wind(str, enum.Enum):  # noqa: UP042 - the (str, Enum) spelling is what is tested
    """The older spelling of a string enum."""

    CALM = "calm"
    GALE = "gale"


@attrs.frozen
class Hour:
    """An attrs class two levels down, holding an enum."""

    wind: Wind


@attrs.frozen
class Spot:
    """A nested attrs class holding an enum."""

    level: Level
    hours: list[Hour] = attrs.Factory(list)


@attrs.frozen
class Report:
    """Every place an enum can hide."""

    sky: Sky
    level: Level
    wind: Wind
    skies: list[Sky]
    spot: Spot
    maybe: Sky | None = None
    unit: Literal["c", "f"] = "c"


REPORT = {
    "sky": "rain",
    "level": 2,
    "wind": "gale",
    "skies": ["sunny", "rain"],
    "spot": {"level": 1, "hours": [{"wind": "calm"}]},
    "maybe": "sunny",
    "unit": "f",
}
EXPECTED = Report(
    Sky.RAIN,
    Level.HIGH,
    Wind.GALE,
    [Sky.SUNNY, Sky.RAIN],
    Spot(Level.LOW, [Hour(Wind.CALM)]),
    Sky.SUNNY,
    "f",
)


def answer(content: str) -> dict[str, Any]:
    """A completion body whose only message has this content."""
    message = {"role": "assistant", "content": content}
    return {**COMPLETION, "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def _assert_members(report: Report) -> None:
    """Each value is the enum member itself (equality alone would pass for plain str/int)."""
    assert report == EXPECTED
    assert type(report.sky) is Sky
    assert type(report.level) is Level
    assert type(report.wind) is Wind
    assert all(type(sky) is Sky for sky in report.skies)
    assert type(report.maybe) is Sky
    assert type(report.spot.level) is Level
    assert type(report.spot.hours[0].wind) is Wind
    assert type(report.unit) is str


async def test_parse_gives_enum_members_everywhere(client: AsyncDosAI, server: Scripted) -> None:
    """StrEnum, IntEnum, (str, Enum), in lists, optional and nested: all come back as members."""
    server.reply(body=answer(json.dumps(REPORT)))
    done = await client.chat.completions.parse(messages=USER, response_format=Report)
    parsed = done.choices[0].message.parsed
    assert parsed is not None
    _assert_members(parsed)


async def test_parse_names_the_path_of_a_bad_enum_value(
    client: AsyncDosAI, server: Scripted
) -> None:
    """A value that is no member fails with the field path and the allowed values."""
    server.reply(body=answer(json.dumps({**REPORT, "spot": {"level": 3}})))
    with pytest.raises(StructuredOutputError) as caught:
        await client.chat.completions.parse(messages=USER, response_format=Report)
    assert caught.value.path == "Report.spot.level"
    assert "3 is not a Level (one of 1, 2)" in caught.value.message


@pytest.mark.parametrize(
    ("field", "value"), [("level", True), ("level", 2.0), ("sky", 1), ("skies", [["rain"]])]
)
def test_enum_values_of_the_wrong_json_type_are_rejected(field: str, value: Any) -> None:
    """``true`` is not IntEnum 1 and ``2.0`` is not 2: JSON types must match the members'."""
    with pytest.raises(ResponseValidationError, match=f"Report.{field}"):
        _converter.structure({**REPORT, field: value}, Report)


def forecast(
    sky: Sky, level: Level, winds: list[Wind], spot: Spot, maybe: Sky | None = None
) -> str:
    """A tool taking enums."""
    return f"{sky} {level} {winds} {spot} {maybe}"


def test_tool_arguments_arrive_as_enum_members() -> None:
    """Tool arguments typed with enums (also nested and optional) are members."""
    arguments = json.dumps(
        {"sky": "sunny", "level": 1, "winds": ["gale"], "spot": REPORT["spot"], "maybe": "rain"}
    )
    kwargs = tool(forecast).parse_arguments(arguments)
    assert kwargs == {
        "sky": Sky.SUNNY,
        "level": Level.LOW,
        "winds": [Wind.GALE],
        "spot": Spot(Level.LOW, [Hour(Wind.CALM)]),
        "maybe": Sky.RAIN,
    }
    assert [type(kwargs[k]) for k in ("sky", "level", "maybe")] == [Sky, Level, Sky]
    assert type(kwargs["winds"][0]) is Wind
    assert type(kwargs["spot"].hours[0].wind) is Wind


def test_bad_tool_enum_argument_names_the_parameter() -> None:
    """An argument that is no member is a ToolArgumentsError naming the parameter."""
    arguments = json.dumps({"sky": "snow", "level": 1, "winds": [], "spot": {"level": 1}})
    with pytest.raises(ToolArgumentsError, match=r"'snow' is not a Sky .* @ forecast\.sky"):
        tool(forecast).parse_arguments(arguments)


@dataclasses.dataclass(frozen=True)
class Gust:
    """A dataclass holding an enum (structured, though schemas are built for attrs only)."""

    wind: Wind
    level: Level | None = None


@attrs.frozen
class Gusts:
    """An attrs class holding dataclasses."""

    gusts: list[Gust]


def test_enum_inside_a_dataclass_is_a_member() -> None:
    """A dataclass nested in an attrs class gets enum members too."""
    gusts = _converter.structure({"gusts": [{"wind": "gale", "level": 2}]}, Gusts)
    assert gusts == Gusts([Gust(Wind.GALE, Level.HIGH)])
    assert type(gusts.gusts[0].wind) is Wind
    assert type(gusts.gusts[0].level) is Level


@attrs.frozen
class _Flat:
    sky: Sky
    level: Level
    wind: Wind | None = None


_value = st.one_of(
    st.sampled_from(["sunny", "rain", "calm", "gale", "x"]),
    st.integers(0, 3),
    st.booleans(),
    st.floats(1, 2),
    st.none(),
)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"sky": _value, "level": _value}, optional={"wind": _value}))
def test_fast_and_detailed_agree_on_enums(payload: dict[str, Any]) -> None:
    """The generated hooks and plain cattrs accept the same enum values, with the same result."""
    try:
        fast = _converter.structure(payload, _Flat)
    except ResponseValidationError:
        with pytest.raises(Exception):  # noqa: B017 - any cattrs error is a rejection
            _converter._detailed.structure(payload, _Flat)
        return
    assert fast == _converter._detailed.structure(payload, _Flat)
    assert type(fast.sky) is Sky
    assert type(fast.level) is Level
