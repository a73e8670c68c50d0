"""Run a ``DosAIEmulator`` on its own event loop in a daemon thread, for synchronous code.

For the sync ``openai`` client, for benchmarks that need the server off the client's loop,
and for ``dosai serve``. The emulator's fault and log methods are plain container operations
and may be called from the calling thread; everything else happens on the server's loop.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["ThreadedEmulator"]


class _Server(Protocol):
    """What the thread runs: a server that starts and closes on its loop."""

    async def start(self) -> Any: ...

    async def close(self) -> Any: ...


#: The emulator's type (``DosAIEmulator``): a type variable, so that this module needs no
#: import of ``_server``, which imports this one.
EmulatorT = TypeVar("EmulatorT", bound=_Server)

_JOIN_TIMEOUT = 10.0


class ThreadedEmulator(Generic[EmulatorT]):
    """``with DosAIEmulator().in_thread() as emu:`` serves from a background thread.

    Entering starts the server and returns the started ``DosAIEmulator``; leaving closes it
    and joins the thread. ``start()``/``close()`` do the same without a ``with`` block.
    """

    def __init__(self, emulator: EmulatorT) -> None:
        self.emulator = emulator
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self) -> EmulatorT:
        """Start the thread and wait until the server listens; re-raise a startup error."""
        if self._thread is not None:
            raise RuntimeError("the emulator thread is already running")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._main(ready),), name="dosai-emulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._error is not None:
            self._thread.join(_JOIN_TIMEOUT)
            self._thread = None
            raise self._error
        return self.emulator

    def close(self) -> None:
        """Close the server and join its thread. Safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        thread.join(_JOIN_TIMEOUT)

    def __enter__(self) -> EmulatorT:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def _main(self, ready: threading.Event) -> None:
        """The thread's loop: start, signal, wait for ``close()``, close."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.emulator.start()
        except BaseException as exc:
            self._error = exc
            return
        finally:
            ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.emulator.close()
