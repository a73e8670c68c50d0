"""Shared by the examples: the real API when ``DOS_AI_API_KEY`` is set, else a local emulator.

Not an example itself. ``dos_client()`` yields an ``AsyncDosAI`` either way, so every
example runs offline as is, and against DOS AI once a key is in the environment.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from dosai_async import AsyncDosAI
from dosai_async.testing import DosAIEmulator


@contextlib.asynccontextmanager
async def dos_client(
    *, ttft: float = 0.2, token_interval: float = 0.02, reasoning: bool = False
) -> AsyncIterator[AsyncDosAI]:
    """A client of DOS AI (key in the env) or of an emulator started for the example.

    The emulator paces its replies like a model (``ttft``, ``token_interval``), thinks
    first when ``reasoning`` is on, and checks the API key as the real API does.
    """
    if os.environ.get("DOS_AI_API_KEY"):
        async with AsyncDosAI() as client:
            yield client
        return
    emulator = DosAIEmulator(
        ttft=ttft, token_interval=token_interval, reasoning=reasoning, api_key="dos_sk_local"
    )
    async with emulator, AsyncDosAI(base_url=emulator.base_url, api_key=emulator.api_key) as client:
        yield client
