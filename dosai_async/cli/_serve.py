"""``dosai serve``: run the DOS AI emulator on a port until Ctrl-C.

Any OpenAI-compatible client can use it (``base_url=http://127.0.0.1:8400/v1``). Ctrl-C or
SIGTERM stops it cleanly with exit code 0. Needs no ``rich``: it prints plain lines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dosai_async.testing import DosAIEmulator

DEFAULT_PORT = 8400


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dosai serve``."""
    parser = subparsers.add_parser(
        "serve",
        help="run a local DOS AI emulator for any OpenAI-compatible client",
        description="Serve the DOS AI API locally (chat completions streamed or not, tools, "
        "structured output, models, errors on demand) until Ctrl-C.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help="port; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--ttft", type=_seconds, default=0.0, metavar="S", help="seconds before the first token"
    )
    parser.add_argument(
        "--token-interval", type=_seconds, default=0.0, metavar="S", help="seconds between tokens"
    )
    parser.add_argument(
        "--batch-interval",
        type=_seconds,
        default=0.01,
        metavar="S",
        help="seconds per line of a hosted batch (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key", metavar="K", help="accept only this key (default: any non-empty key)"
    )
    parser.add_argument(
        "--reasoning", action="store_true", help="think before answering, as Qwen does"
    )
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM."""
    # Imported here, inside the run: a Ctrl-C during this import is an "interrupted" line.
    from dosai_async.testing import DosAIEmulator

    emulator = DosAIEmulator(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        ttft=args.ttft,
        token_interval=args.token_interval,
        reasoning=args.reasoning,
        batch_interval=args.batch_interval,
    )
    # Until it listens, Ctrl-C is asyncio.run's: it cancels the start-up and `main` prints
    # "interrupted" (exit 130). Then our handlers, and only then the banner: whoever reads
    # the banner may signal at once.
    async with emulator:
        with _stop_signals() as stop:
            print(banner(emulator, any_key=args.api_key is None), flush=True)
            await stop.wait()
    print("stopped", file=sys.stderr, flush=True)
    return 0


@contextlib.contextmanager
def _stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM while the block runs."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            continue  # Windows: Ctrl-C arrives as KeyboardInterrupt instead
        installed.append(sig)
    try:
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def banner(emulator: DosAIEmulator, *, any_key: bool) -> str:
    """Where the emulator listens and how to use it; the first line names the base URL."""
    url, key = emulator.base_url, emulator.api_key
    accepted = f"any non-empty key, e.g. {key}" if any_key else key
    body = '{"model": "dos-ai", "messages": [{"role": "user", "content": "Hello!"}]}'
    return "\n".join(
        [
            f"DOS AI emulator listening on {url} (Ctrl-C to stop)",
            f"  API key: {accepted}",
            f"  models:  {', '.join(emulator.models)}; embeddings: "
            f"{', '.join(emulator.embedding_models)}",
            "",
            "Try it:",
            f"  curl {url}/chat/completions -H 'Authorization: Bearer {key}' \\",
            f"       -H 'Content-Type: application/json' -d '{body}'",
            f"  DOS_AI_BASE_URL={url} DOS_AI_API_KEY={key} dosai chat 'Hello!'",
            f'  openai.OpenAI(base_url="{url}", api_key="{key}")',
            "Errors on demand: send the header 'X-Emulator-Fault: status=429; retry-after=1'.",
        ]
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, not {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text}")
    return value
