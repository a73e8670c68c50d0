"""pytest fixtures for the DOS AI emulator (registered by the ``pytest11`` entry point).

- ``dosai_emulator``: an async fixture yielding a started ``DosAIEmulator``, one per test.
  Needs pytest-asyncio; without it the fixture is simply not defined.
- ``dosai_emulator_thread``: the same emulator served from a background thread, for
  synchronous tests (the sync ``openai`` client, subprocesses). Needs nothing else.

Both take constructor arguments from a marker:
``@pytest.mark.dosai_emulator(ttft=0.05, reasoning=True)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ._server import DosAIEmulator

__all__ = ["dosai_emulator_thread", "pytest_configure"]

_MARKER = "dosai_emulator"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers", f"{_MARKER}(**options): DosAIEmulator constructor arguments for the fixtures"
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Constructor arguments from the closest ``dosai_emulator`` marker."""
    marker = request.node.get_closest_marker(_MARKER)
    return dict(marker.kwargs) if marker is not None else {}


@pytest.fixture
def dosai_emulator_thread(request: pytest.FixtureRequest) -> Iterator[DosAIEmulator]:
    """A started DosAIEmulator served from a background thread."""
    with DosAIEmulator(**_options(request)).in_thread() as emulator:
        yield emulator


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - only the thread fixture is offered then
    pass
else:

    @pytest_asyncio.fixture
    async def dosai_emulator(request: pytest.FixtureRequest) -> AsyncIterator[DosAIEmulator]:
        """A started DosAIEmulator on the test's event loop."""
        async with DosAIEmulator(**_options(request)) as emulator:
            yield emulator

    __all__ += ["dosai_emulator"]
