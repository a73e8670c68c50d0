"""``dosai models``: the models the API serves, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from dosai_async import Model

from ._common import add_client_options, console, open_client, plain


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dosai models``."""
    parser = subparsers.add_parser(
        "models",
        help="list the models the API serves",
        description="List the models the API serves, with context length and pricing.",
    )
    add_client_options(parser)
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    """Fetch the model list and print it."""
    out = console()
    async with open_client(args) as client:
        models = list(await client.models.list())
    if args.json:
        out.print_json(json.dumps([plain(model) for model in models]))
        return 0
    from rich.table import Table  # console() above already checked that rich is there

    table = Table("id", "owned by", "context length", "pricing")
    for model in models:
        table.add_row(model.id, model.owned_by or "", _context(model), _pricing(model.pricing))
    out.print(table)
    return 0


def _context(model: Model) -> str:
    # DOS documents `context_length`; vLLM itself reports `max_model_len`.
    length = model.context_length or model.extra.get("max_model_len")
    return f"{length:,}" if isinstance(length, int) else ""


def _pricing(pricing: Mapping[str, Any] | None) -> str:
    """``prompt $0.10/M · completion $0.40/M`` from per-token prices (strings on the wire)."""
    if not pricing:
        return ""
    return " · ".join(f"{kind} {_per_million(price)}" for kind, price in pricing.items())


def _per_million(price: object) -> str:
    try:
        return f"${float(str(price)) * 1e6:.2f}/M"
    except ValueError:
        return str(price)
