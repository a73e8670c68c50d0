"""The ``dosai_async`` logger and ``DOS_AI_LOG``, this package's ``OPENAI_LOG``.

``DOS_AI_LOG=info`` logs each retry (what failed, the attempt, the wait); ``debug`` adds one
line per attempt: method, URL, status or error, attempt, elapsed milliseconds, request id.
The levels are openai's: ``OPENAI_LOG=info`` shows retries, ``debug`` every response.
Like openai's ``setup_logging``, it calls ``logging.basicConfig`` (a stderr handler on the
root logger, unless the application configured one) and sets this package's level; nothing
else is touched. Without ``DOS_AI_LOG`` the logger is the application's to configure.

No line ever holds the API key: it travels in a header, and no header is logged.
"""

from __future__ import annotations

import logging
import os

from ._env import LOG_ENV
from ._exceptions import DosAIError

logger = logging.getLogger("dosai_async")

# openai's two, and the other standard names, so a DOS_AI_LOG=warning set for a whole
# deployment quiets the package instead of failing every client.
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def setup_logging() -> None:
    """Apply ``$DOS_AI_LOG`` (``debug``, ``info``, ``warning``, ``error`` or ``critical``, any
    case); unset or empty does nothing."""
    value = os.environ.get(LOG_ENV, "").strip().lower()
    if not value:
        return
    level = _LEVELS.get(value)
    if level is None:
        raise DosAIError(
            f"{LOG_ENV} must be one of {', '.join(_LEVELS)}, not {os.environ[LOG_ENV]!r}; "
            f"unset it to leave logging alone."
        )
    logging.basicConfig(
        format="[%(asctime)s %(name)s %(levelname)s] %(message)s", datefmt="%Y-%m-%d %H:%M:%S"
    )
    logger.setLevel(level)


def attempt_line(
    method: str,
    url: str,
    attempt: int,
    elapsed: float,
    outcome: str,
    request_id: str | None,
) -> str:
    """``POST https://.../chat/completions -> 200 (attempt 1, 12.3 ms, request id req_1)``."""
    rid = f", request id {request_id}" if request_id else ""
    return f"{method} {url} -> {outcome} (attempt {attempt}, {elapsed * 1000:.1f} ms{rid})"
