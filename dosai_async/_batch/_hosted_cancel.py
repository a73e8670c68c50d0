"""``cancel_hosted_file``: cancel the hosted batch a ``run_hosted_file`` run left running.

The run's state file (``OUTPUT.batch.json``) names the batch. Cancelling asks the server
(``cancelling``), then polls until the batch is final (``cancelled``, or whatever it reached
first: a batch that completed meanwhile stays completed), and only then removes the state
file, so a cancel cut short can be run again. No state file: nothing to cancel (``None``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from dosai_async._core._exceptions import ConflictError, DosAIError, NotFoundError
from dosai_async._models._batches import Batch

from ._hosted import read_state, state_path

__all__ = ["cancel_hosted_file"]


async def cancel_hosted_file(
    retrieve: Callable[[str], Awaitable[Batch]],
    cancel: Callable[[str], Awaitable[Batch]],
    output_path: str | os.PathLike[str],
    *,
    poll_interval: float = 2.0,
    progress: Callable[[Batch], object] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Batch | None:
    """Cancel the batch named by ``output_path``'s state file; the final batch, or None."""
    if not poll_interval > 0:
        raise ValueError(f"poll_interval must be more than 0, not {poll_interval!r}")
    state = state_path(output_path)
    saved = read_state(state)
    if saved is None:
        return None
    batch = await _stop(retrieve, cancel, state, str(saved["batch_id"]))
    while True:
        if progress is not None:
            progress(batch)
        if batch.is_done:
            break
        await sleep(poll_interval)
        batch = await retrieve(batch.id)
    state.unlink(missing_ok=True)
    return batch


async def _stop(
    retrieve: Callable[[str], Awaitable[Batch]],
    cancel: Callable[[str], Awaitable[Batch]],
    state: os.PathLike[str],
    batch_id: str,
) -> Batch:
    """The batch after asking it to stop; one already final is left as it is."""
    try:
        batch = await retrieve(batch_id)
    except NotFoundError:
        raise DosAIError(
            f"{state} names batch {batch_id}, which the server does not know (404: another "
            "server or account, or a local emulator that is gone), so there is nothing to "
            "cancel there. Delete the state file."
        ) from None
    if batch.is_done:
        return batch
    try:
        return await cancel(batch_id)
    except ConflictError:  # it became final between the two calls
        return await retrieve(batch_id)
