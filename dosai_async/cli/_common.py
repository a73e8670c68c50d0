"""Helpers shared by the ``dosai`` subcommands: client construction, errors, output.

- ``add_client_options`` + ``open_client``: ``--local`` runs against an in-process emulator,
  otherwise the key and base URL come from ``DOS_AI_API_KEY`` / ``DOS_AI_BASE_URL``.
- ``CLIError`` is a failure that ``main`` prints as one line with its exit code;
  ``describe`` turns any ``DosAIError`` into that line.
- ``console`` imports rich lazily, so ``import dosai_async`` (and ``dosai serve``) never
  needs the ``cli`` extra.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from dosai_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncDosAI,
    AuthenticationError,
    DosAIError,
    InsufficientCreditsError,
    RateLimitError,
    to_dict,
)
from dosai_async._core._env import API_KEY_ENV

if TYPE_CHECKING:
    from rich.console import Console

#: Set to 1 to make ``--local`` answer without simulated latency (used by the tests).
FAST_ENV = "DOSAI_EMULATOR_FAST"

# --local paces replies like a real model, so the demo visibly streams.
LOCAL_TTFT = 0.25
LOCAL_TOKEN_INTERVAL = 0.025
# The emulator's own defaults (a 300 requests/min plan; batch lines 10 ms apart) outside a batch.
LOCAL_RATE_LIMIT = 300
LOCAL_BATCH_INTERVAL = 0.01

EXIT_API_ERROR = 1
EXIT_USAGE = 2

INSTALL_HINT = 'the dosai command needs rich: pip install "dosai-async[cli]"'


class CLIError(Exception):
    """A failure reported as one line on stderr, exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_API_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_client_options(parser: argparse.ArgumentParser, *, per: str = "call") -> None:
    """Add ``--local`` and ``--timeout`` to a subcommand that talks to the API.

    ``per`` names what one timeout bounds in the help text (``request`` for ``batch``).
    """
    parser.add_argument(
        "--local",
        action="store_true",
        help="use a DOS AI emulator started in this process (offline, no key needed)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help=f"give up on a {per} after this many seconds, retries included (default: 600)",
    )


def positive_seconds(text: str) -> float:
    """A duration from the command line: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text}")
    return value


def client_timeout(args: argparse.Namespace) -> float | None:
    """The ``--timeout`` given, or ``None`` for the client's default."""
    timeout: float | None = getattr(args, "timeout", None)
    return timeout


@contextlib.asynccontextmanager
async def open_client(
    args: argparse.Namespace, *, reasoning: bool = True, batch: bool = False
) -> AsyncIterator[AsyncDosAI]:
    """The client a subcommand uses: emulator-backed with ``--local``, else from the env.

    ``reasoning`` turns the local emulator's thinking on (Qwen thinks by default); ``batch``
    makes it answer at once, with no rate limit a demo reaches and hosted batch lines run
    as fast as the loop allows: there the point is the batch machinery.
    """
    timeout = client_timeout(args)
    if getattr(args, "local", False):
        async with _local_client(reasoning, timeout, batch) as client:
            yield client
        return
    async with _env_client(timeout) as client:
        yield client


@contextlib.asynccontextmanager
async def _local_client(
    reasoning: bool, call_timeout: float | None, batch: bool
) -> AsyncIterator[AsyncDosAI]:
    # Imported here: the emulator is only needed with --local.
    from dosai_async.testing import DosAIEmulator

    fast = batch or os.environ.get(FAST_ENV, "") not in ("", "0")
    emulator = DosAIEmulator(
        ttft=0.0 if fast else LOCAL_TTFT,
        token_interval=0.0 if fast else LOCAL_TOKEN_INTERVAL,
        reasoning=reasoning,
        rate_limit=1_000_000_000 if batch else LOCAL_RATE_LIMIT,
        batch_interval=0.0 if batch else LOCAL_BATCH_INTERVAL,
    )
    async with emulator:  # started first: its base URL names the port it got
        url, key = emulator.base_url, emulator.api_key
        # trust_env=False: the emulator is on this machine, never behind $HTTP_PROXY.
        local = AsyncDosAI(base_url=url, api_key=key, timeout=call_timeout, trust_env=False)
        async with local as client:
            yield client


@contextlib.asynccontextmanager
async def _env_client(call_timeout: float | None) -> AsyncIterator[AsyncDosAI]:
    if not os.environ.get(API_KEY_ENV, "").strip():
        raise CLIError(
            f"no API key: set {API_KEY_ENV}, or add --local to try the built-in emulator",
            EXIT_USAGE,
        )
    try:
        client = AsyncDosAI(timeout=call_timeout)
    except DosAIError as exc:  # a malformed DOS_AI_BASE_URL: a configuration problem
        raise CLIError(str(exc), EXIT_USAGE) from None
    async with client:
        try:
            yield client
        except APIConnectionError as exc:
            # Name the URL: "no network" and "wrong DOS_AI_BASE_URL" look alike otherwise.
            raise CLIError(f"{client.base_url}: {describe(exc)}") from None


def describe(exc: DosAIError) -> str:
    """One line for an API error: what the server said, and what to do about it."""
    hint = _hint(exc)
    text = str(exc)
    return f"{text.rstrip('.')}; {hint}" if hint else text


def _hint(exc: DosAIError) -> str | None:
    if isinstance(exc, AuthenticationError):
        return f"check {API_KEY_ENV}"
    if isinstance(exc, InsufficientCreditsError):
        return "add credits to your DOS AI account"
    if isinstance(exc, RateLimitError):
        wait = exc.retry_after
        return "try again later" if wait is None else f"try again in {wait:g} s"
    if isinstance(exc, APITimeoutError) and exc.deadline == "total":
        return "allow it longer with --timeout SECONDS"
    return None


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout or stderr; a one-line ``CLIError`` if rich is missing."""
    try:
        from rich.console import Console
    except ImportError:
        raise CLIError(INSTALL_HINT) from None
    # Model output is shown as is: no emoji codes, no highlighting, no wrapping (pass
    # markup=False when printing model text: markup stays on for our own messages).
    return Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True)


def plain(value: object) -> Any:
    """JSON-ready data for a response model (unset fields dropped, extras kept)."""
    return to_dict(value)
