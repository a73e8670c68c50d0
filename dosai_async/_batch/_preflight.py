"""Pre-flight: refuse a batch the account's balance clearly cannot pay for, before sending.

Plan: ``estimate_cost(requests, prices)`` (pure) -> ``preflight(client, requests)`` reads the
balance (``GET /user/balance``) and the prices (``GET /models``) and raises
``PreflightError`` when even the lower bound exceeds the balance.

Decisions, so that a refusal is never wrong:

- **Lower bound.** Prompt tokens are counted as the characters of the messages' text at
  ``LOWER_CHARS_PER_TOKEN`` (8) characters a token: Qwen's tokenizer averages about 4 for
  English and fewer for most other text, so real prompts hold more tokens than that. JSON
  overhead, the chat template and the system tokens are not counted. Each request is
  counted at one completion token (a model may stop at once; ``n`` choices count ``n``).
- **Upper estimate** (shown, never used to refuse): 2 characters a token plus
  ``max_tokens`` (or ``max_completion_tokens``) per choice; requests without one count
  ``UNCAPPED_COMPLETION_TOKENS``.
- Prices are DOS's ``pricing`` of ``GET /models`` (USD per token, as strings). A model
  without prices counts zero: the bound stays a lower bound. An unlimited balance (``None``)
  never refuses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs

from dosai_async._core._exceptions import PreflightError
from dosai_async._models._account import Balance
from dosai_async._models._types import ModelList

from ._jsonl import LineError, parse_line

LOWER_CHARS_PER_TOKEN = 8
UPPER_CHARS_PER_TOKEN = 2
UNCAPPED_COMPLETION_TOKENS = 4096
DEFAULT_MODEL = "dos-ai"


class _Retrieve(Protocol):
    async def retrieve(self) -> Balance: ...


class _List(Protocol):
    async def list(self) -> ModelList: ...


class PreflightClient(Protocol):
    """What ``preflight`` needs of a client: ``client.balance`` and ``client.models``."""

    @property
    def balance(self) -> _Retrieve: ...

    @property
    def models(self) -> _List: ...


@attrs.frozen
class Price:
    """USD per prompt and per completion token."""

    prompt: float = 0.0
    completion: float = 0.0


@attrs.frozen
class CostEstimate:
    """What a batch will cost in USD: at least ``lower_bound``, likely at most ``upper``."""

    requests: int
    lower_bound: float
    upper: float
    balance: float | None = None


def estimate_cost(
    requests: Iterable[Mapping[str, Any]], prices: Mapping[str, Price]
) -> CostEstimate:
    """The cost bounds of ``requests`` (``create`` keyword mappings) at ``prices`` per model."""
    count, lower, upper = 0, 0.0, 0.0
    for request in requests:
        price = prices.get(str(request.get("model") or DEFAULT_MODEL), Price())
        chars = _text_chars(request.get("messages"))
        choices = _positive(request.get("n"), 1)
        cap = request.get("max_completion_tokens") or request.get("max_tokens")
        reply = _positive(cap, UNCAPPED_COMPLETION_TOKENS)
        lower += chars // LOWER_CHARS_PER_TOKEN * price.prompt + choices * price.completion
        upper += chars / UPPER_CHARS_PER_TOKEN * price.prompt + choices * reply * price.completion
        count += 1
    return CostEstimate(count, lower, upper)


async def preflight(client: PreflightClient, requests: Iterable[Mapping[str, Any]]) -> CostEstimate:
    """Check that the balance can pay for ``requests``; raise ``PreflightError`` if clearly not.

    ``requests`` is read once (pass a list, then the same list to ``batch()``). Returns the
    ``CostEstimate`` with the ``balance`` it was compared against (None: unlimited).
    """
    balance = (await client.balance.retrieve()).balance
    prices = model_prices(await client.models.list())
    estimate = attrs.evolve(estimate_cost(requests, prices), balance=balance)
    if balance is not None and estimate.lower_bound > balance:
        message = _refusal(estimate, balance)
        raise PreflightError(
            message, balance=balance, lower_bound=estimate.lower_bound, estimate=estimate
        )
    return estimate


def file_requests(path: Path, skip: Collection[str] = ()) -> Iterator[dict[str, Any]]:
    """The valid requests of a JSONL batch file, leaving out the ``custom_id`` values in
    ``skip`` (done by an earlier run: a resumed run pays only for the rest)."""
    with path.open("rb") as lines:
        for raw in lines:
            try:
                custom_id, request = parse_line(raw) if raw.strip() else ("", None)
            except LineError:
                continue  # run_batch_file reports it; it costs nothing
            if request is not None and custom_id not in skip:
                yield request


def model_prices(models: ModelList) -> dict[str, Price]:
    """Each model's DOS ``pricing`` (strings of USD per token) as numbers."""
    return {model.id: _price(model.pricing or {}) for model in models}


def _price(pricing: Mapping[str, Any]) -> Price:
    return Price(_usd(pricing.get("prompt")), _usd(pricing.get("completion")))


def _usd(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0  # unknown: counted as free, so the bound stays a lower bound
    return number if number >= 0 else 0.0


def _positive(value: object, fallback: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else fallback
    )


def _text_chars(messages: object) -> int:
    """Characters of text in ``messages`` (string contents and text parts; dicts only)."""
    if not isinstance(messages, Iterable) or isinstance(messages, (str, bytes, Mapping)):
        return 0
    return sum(_content_chars(m.get("content")) for m in messages if isinstance(m, Mapping))


def _content_chars(content: object) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(
            len(p["text"])
            for p in content
            if isinstance(p, Mapping) and isinstance(p.get("text"), str)
        )
    return 0


def _refusal(estimate: CostEstimate, balance: float) -> str:
    return (
        f"Not starting the batch: its {estimate.requests} requests cost at least "
        f"${estimate.lower_bound:.6f} (likely up to ${estimate.upper:.6f}) but the balance is "
        f"${balance:.6f}. Add credits, or send fewer requests. Nothing was sent."
    )
