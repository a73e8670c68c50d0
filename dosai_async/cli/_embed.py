"""``dosai embed``: a quick embedding of one or more texts."""

from __future__ import annotations

import argparse
import json

from dosai_async import CreateEmbeddingResponse

from ._common import EXIT_USAGE, CLIError, add_client_options, console, open_client, plain

_SHOWN = 6  # values shown per vector


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dosai embed``."""
    parser = subparsers.add_parser(
        "embed",
        help="embed texts and show their vectors",
        description="Embed one or more texts (one request) and show each vector's size, "
        "first values and the usage.",
    )
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="a text to embed")
    parser.add_argument("--model", default="qwen3-embedding-4b", help="(default: %(default)s)")
    parser.add_argument("--dimensions", type=int, metavar="N", help="shorten the vectors to N")
    parser.add_argument(
        "--encoding-format",
        choices=("float", "base64"),
        help="wire encoding (default base64; the vectors are the same)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole response as JSON")
    add_client_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    """Embed the texts and print them."""
    out = console()
    async with open_client(args) as client:
        try:
            answer = await client.embeddings.create(
                input=list(args.texts),
                model=args.model,
                dimensions=args.dimensions,
                encoding_format=args.encoding_format,
            )
        except (TypeError, ValueError) as exc:  # refused before sending: the user's input
            raise CLIError(str(exc).replace("input[", "TEXT["), EXIT_USAGE) from None
    if args.json:
        out.print_json(json.dumps(plain(answer)))
        return 0
    for line in summary(answer, args.texts):
        out.print(line, markup=False)
    return 0


def summary(answer: CreateEmbeddingResponse, texts: list[str]) -> list[str]:
    """One line per vector (its text, size and first values), then the usage line."""
    lines = []
    for item in answer.data:
        head = ", ".join(f"{x:+.4f}" for x in item.embedding[:_SHOWN])
        more = ", ..." if len(item.embedding) > _SHOWN else ""
        lines.append(
            f"[{item.index}] {texts[item.index]!r}: {len(item.embedding)} dims [{head}{more}]"
        )
    usage = answer.usage
    if usage is not None:
        cost = f", ${usage.cost:.8f}" if usage.cost is not None else ""
        tokens = "1 token" if usage.prompt_tokens == 1 else f"{usage.prompt_tokens} tokens"
        lines.append(f"{answer.model}: {tokens}{cost}")
    return lines
