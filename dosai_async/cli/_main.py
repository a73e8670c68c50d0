"""What ``main`` runs: the parser of every subcommand, and each failure as one line.

Loaded by ``main`` inside its ``except KeyboardInterrupt`` (with the subcommands, the public
API, aiohttp and asyncio behind it), so importing ``dosai_async.cli`` costs almost nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys

from dosai_async import DosAIError, __version__

from . import _balance, _chat, _embed, _models, _serve
from ._common import EXIT_API_ERROR, INSTALL_HINT, CLIError, describe

__all__ = ["build_parser", "run"]

_BATCH = f"{__package__}._batch"


def run(argv: list[str] | None) -> int:
    """Parse ``argv`` and run the chosen subcommand; the exit code (``main``'s work)."""
    try:
        parser = build_parser()
    except CLIError as exc:
        return _fail(str(exc), exc.exit_code)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        return _closed_pipe()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="dosai",
        description="Chat with DOS AI from the terminal, or run a local DOS AI emulator.",
        epilog="Environment: DOS_AI_API_KEY, DOS_AI_BASE_URL (default https://api.dos.ai/v1).",
    )
    parser.add_argument("--version", action="version", version=f"dosai-async {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (_chat, _models, _embed, _balance, _serve):
        module.register(subparsers)
    _register_batch(subparsers)
    return parser


def _register_batch(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # `batch` lives in its own module, written alongside this one; until it exists the
    # command simply has no `batch` subcommand.
    try:
        batch = importlib.import_module(_BATCH)
    except ModuleNotFoundError as exc:
        if exc.name == "rich":
            raise CLIError(INSTALL_HINT) from None
        if exc.name != _BATCH:
            raise
        return
    batch.register(subparsers)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = asyncio.run(args.func(args))
    except CLIError as exc:
        return _fail(str(exc), exc.exit_code)
    except DosAIError as exc:
        return _fail(describe(exc), EXIT_API_ERROR)
    except BrokenPipeError:
        raise  # handled by main: nothing more can be written
    except OSError as exc:  # a file that cannot be read, a port already taken...
        return _fail(_os_error(exc), EXIT_API_ERROR)
    return code


def _os_error(exc: OSError) -> str:
    """``out.jsonl: Is a directory`` rather than ``[Errno 21] Is a directory: 'out.jsonl'``."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    text = exc.strerror or str(exc)
    # asyncio says "error while attempting to bind on address ...": our line already
    # starts with "error:", so drop the echo.
    return text.removeprefix("error while attempting to ")


def _fail(message: str, code: int) -> int:
    line = " ".join(message.split())  # one line, even if the server's message had several
    print(f"error: {line}", file=sys.stderr, flush=True)
    return code


def _closed_pipe() -> int:
    # The reader went away (`dosai chat ... | head`): point stdout at devnull so the
    # interpreter's final flush does not fail again, and exit quietly.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_API_ERROR
