"""The ``dosai`` command: ``chat``, ``models``, ``embed``, ``balance``, ``serve`` and ``batch``.

Each subcommand module exposes ``register(subparsers)``, which adds its parser with
``set_defaults(func=run)``, and ``async def run(args) -> int``. ``main`` runs the chosen one
and turns every expected failure into one line on stderr and an exit code, never a
traceback: 0 done, 1 API, network or file error, 2 usage or configuration error (argparse's
own code), 130 interrupted.

Environment: ``DOS_AI_API_KEY`` and ``DOS_AI_BASE_URL`` configure the client;
``DOSAI_EMULATOR_FAST=1`` makes ``--local`` answer without simulated latency.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run the ``dosai`` command with ``argv`` (default ``sys.argv[1:]``); the exit code.

    Bad usage exits through argparse (code 2) as usual. Ctrl-C at any point, even while
    the command is still starting, is one ``interrupted`` line and exit code 130.
    """
    try:
        # Everything heavy (the subcommands, the public API, aiohttp, asyncio) loads here,
        # inside the `except`: a Ctrl-C while it loads is `interrupted`, not a traceback.
        from ._main import run

        return run(argv)
    except KeyboardInterrupt:  # also from a running subcommand: asyncio.run re-raises it
        print("interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
