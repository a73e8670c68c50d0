"""Tools and response formats as request parameters: the user's objects in their wire form.

``create()``, ``stream()`` and ``parse()`` take, besides the wire dicts, the objects this
package makes: ``tool(f)`` specs, classes (``tools=[Model]``, ``response_format=Model``),
plain functions and ``pydantic_function_tool(Model)``. ``wire_params`` turns them into wire
dicts before the request is built; ``argument_parsers`` says how ``parse()`` reads each
tool's call arguments back (``tool_call.function.parsed_arguments``).

``pydantic_function_tool`` keeps the OpenAI SDK's name and result: the ``function`` dict is
a ``PydanticFunctionTool``, a plain ``dict`` (sent as is) that remembers its class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dosai_async._core._exceptions import ResponseValidationError
from dosai_async._models import _converter

from ._fields import record_doc
from ._schema_nodes import Schema
from ._tool_results import ToolArgumentsError
from ._tools import _NAME, FunctionToolSpec, tool
from ._user_types import KINDS, UserType, is_user_type, user_type

__all__ = [
    "ArgumentsParser",
    "PydanticFunctionTool",
    "argument_parsers",
    "pydantic_function_tool",
    "response_format_param",
    "wire_params",
    "wire_tools",
]

#: Reads a tool call's ``arguments`` JSON into its ``parsed_arguments``.
ArgumentsParser = Callable[[str], object]


class PydanticFunctionTool(dict[str, Any]):
    """The ``function`` of a ``pydantic_function_tool``: a dict that remembers its ``model``."""

    def __init__(self, definition: Mapping[str, Any], model: type[Any]) -> None:
        super().__init__(definition)
        self.model = model


def pydantic_function_tool(
    model: type[Any], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """A strict ``tools`` entry whose arguments are an instance of ``model``.

    As ``openai.pydantic_function_tool``: the name defaults to the class name, the
    description to its docstring, and the parameters are its strict JSON schema. ``model``
    may be a pydantic model, a dataclass, a TypedDict or an attrs class. Given to ``parse()``,
    the tool's calls come back with ``function.parsed_arguments`` as instances of ``model``.
    """
    kind = user_type(model, "pydantic_function_tool()'s model")
    name = name or model.__name__
    if not _NAME.fullmatch(name):
        raise ValueError(f"tool name {name!r} must be 1-64 letters, digits, _ or -; pass name=...")
    function = PydanticFunctionTool(
        {"name": name, "strict": True, "parameters": kind.schema(strict=True)}, model
    )
    description = record_doc(model) if description is None else description
    if description is not None:
        function["description"] = description
    return {"type": "function", "function": function}


def response_format_param(response_format: Any) -> Schema:
    """The strict ``json_schema`` response format of a user's class."""
    kind = user_type(response_format)
    schema = kind.schema(strict=True)
    return {
        "type": "json_schema",
        "json_schema": {"name": kind.name, "strict": True, "schema": schema},
    }


def wire_params(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` with a class as ``response_format`` and tool objects in their wire form.

    Wire dicts pass unchanged (and ``params`` itself is returned when nothing changes).
    """
    changes: dict[str, Any] = {}
    response_format = params.get("response_format")
    if response_format is not None and not _is_mapping(response_format):
        if not is_user_type(response_format):
            raise TypeError(
                'response_format must be a mapping such as {"type": "json_object"}, or '
                f"{KINDS} (parse() returns instances of it), not {response_format!r}"
            )
        changes["response_format"] = response_format_param(response_format)
    tools = params.get("tools")
    if tools is not None and not _all_wire(tools):
        changes["tools"] = wire_tools(tools)
    return {**params, **changes} if changes else params


def _all_wire(tools: Any) -> bool:
    if type(tools) is not list and type(tools) is not tuple:
        return False
    return all(_is_mapping(item) for item in tools)


def _is_mapping(value: Any) -> bool:
    # Per request: a plain dict (the common case) skips the slower Mapping ABC check.
    return type(value) is dict or isinstance(value, Mapping)


def wire_tools(tools: Iterable[Any]) -> list[Mapping[str, Any]]:
    """Each tool as its ``tools`` entry: dicts as given, objects converted."""
    if isinstance(tools, Mapping | str | bytes):
        raise TypeError(f"tools must be a list of tools, not {type(tools).__name__}")
    return [_wire_tool(item, position) for position, item in enumerate(tools)]


def _wire_tool(item: Any, position: int) -> Mapping[str, Any]:
    if isinstance(item, Mapping):
        return item
    if isinstance(item, FunctionToolSpec):
        return item.to_tool()
    if is_user_type(item):
        return pydantic_function_tool(item)
    if callable(item) and not isinstance(item, type):
        return tool(item).to_tool()
    raise TypeError(
        f"tools[{position}] must be a tool dict, tool(f), pydantic_function_tool(...), a "
        f"function, or {KINDS}, not {item!r}"
    )


def argument_parsers(tools: Iterable[Any]) -> dict[str, ArgumentsParser]:
    """How to read each tool's call arguments, by tool name (tools without one are left out)."""
    parsers: dict[str, ArgumentsParser] = {}
    for item in tools:
        if isinstance(item, FunctionToolSpec):
            parsers[item.name] = item.parse_arguments
        elif isinstance(item, Mapping):
            _add_dict_parser(parsers, item.get("function"))
        elif is_user_type(item):
            parsers[item.__name__] = _class_parser(user_type(item), item.__name__)
        elif callable(item):
            spec = tool(item)
            parsers[spec.name] = spec.parse_arguments
    return parsers


def _add_dict_parser(parsers: dict[str, ArgumentsParser], function: Any) -> None:
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        return
    name = function["name"]
    if isinstance(function, PydanticFunctionTool):
        parsers[name] = _class_parser(user_type(function.model), name)
    elif function.get("strict") is True:  # the server holds its arguments to the schema
        parsers[name] = lambda arguments: _decode(arguments, name)


def _class_parser(kind: UserType[Any], name: str) -> ArgumentsParser:
    def parse(arguments: str) -> object:
        data = _decode(arguments, name)
        try:
            return kind.validate(data, arguments)
        except ResponseValidationError as exc:
            problem = "; ".join(exc.errors) or exc.message
            raise ToolArgumentsError(f"invalid arguments for {name}: {problem}", name=name)

    return parse


def _decode(arguments: str, name: str) -> Any:
    try:
        return _converter.loads(arguments or "{}")
    except _converter.JSONDecodeError as exc:
        problem = f"arguments are not valid JSON ({exc}): {arguments[:200]!r}"
        raise ToolArgumentsError(f"invalid arguments for {name}: {problem}", name=name)
