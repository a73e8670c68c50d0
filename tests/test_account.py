"""``client.key``, ``client.balance`` and the batch pre-flight check, against the emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dosai_async import (
    AsyncDosAI,
    Balance,
    InsufficientCreditsError,
    KeyInfo,
    PreflightError,
    estimate_cost,
    preflight,
    run_batch_file,
)
from dosai_async._batch._preflight import Price
from dosai_async.testing import DosAIEmulator


@pytest.fixture
async def emu() -> AsyncIterator[DosAIEmulator]:
    """An emulator whose account holds $5."""
    async with DosAIEmulator(balance=5.0) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: DosAIEmulator) -> AsyncIterator[AsyncDosAI]:
    """A client of the emulator."""
    async with AsyncDosAI(api_key=emu.api_key, base_url=emu.base_url) as sdk:
        yield sdk


def request(text: str = "hello there", **body: Any) -> dict[str, Any]:
    """A chat request's keyword arguments."""
    return {"model": "dos-ai", "messages": [{"role": "user", "content": text}], **body}


async def test_key_reports_label_usage_limit_and_rate_limit(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """After one chat call the key's usage is what was spent and the limit what is left."""
    await client.chat.completions.create(**request())
    key = await client.key.retrieve()
    assert isinstance(key, KeyInfo)
    assert key.usage == pytest.approx(emu.spent)
    assert key.limit == 5.0
    assert key.limit_remaining == pytest.approx(5.0 - emu.spent)
    assert key.is_free_tier is False
    assert key.rate_limit is not None
    assert (key.rate_limit.requests, key.rate_limit.interval) == (300, "60s")  # the default plan
    assert key.label
    assert key.response is not None
    assert key.response.status_code == 200


async def test_balance_reports_credit_and_spending(client: AsyncDosAI, emu: DosAIEmulator) -> None:
    """The balance is USD, active, and falls by what an embeddings call cost."""
    used = await client.embeddings.create(input="hello")
    balance = await client.balance.retrieve()
    assert isinstance(balance, Balance)
    assert balance.currency == "USD"
    assert balance.is_active is True
    assert used.usage is not None
    assert used.usage.cost is not None
    assert balance.balance == pytest.approx(5.0 - used.usage.cost)
    assert balance.total_spent == pytest.approx(used.usage.cost)
    assert isinstance(balance.updated_at, int)


async def test_unlimited_balance_is_none() -> None:
    """An account without a limit reports ``balance=None`` and ``limit=None``."""
    async with (
        DosAIEmulator() as emu,
        AsyncDosAI(api_key=emu.api_key, base_url=emu.base_url) as client,
    ):
        assert (await client.balance.retrieve()).balance is None
        assert (await client.key.retrieve()).limit is None


async def test_zero_balance_makes_chat_an_insufficient_credits_error(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """At zero the 402 arrives typed, and the balance says the account is inactive."""
    emu.balance = 0
    with pytest.raises(InsufficientCreditsError):
        await client.chat.completions.create(**request())
    assert (await client.balance.retrieve()).is_active is False


# -- pre-flight ----------------------------------------------------------------------------


def test_the_lower_bound_counts_8_characters_a_token_and_one_reply_token() -> None:
    """800 characters at $1/prompt token and $10/completion token: at least $110."""
    prices = {"dos-ai": Price(prompt=1.0, completion=10.0)}
    estimate = estimate_cost([request("x" * 800, max_tokens=50)], prices)
    assert estimate.lower_bound == pytest.approx(100 + 10)
    assert estimate.upper == pytest.approx(400 + 500)
    assert estimate.requests == 1


def test_unknown_models_and_message_objects_cost_nothing_in_the_bound() -> None:
    """What cannot be priced is counted as free, so the bound stays a lower bound."""
    estimate = estimate_cost([request(model="other"), {"messages": "not a list"}], {})
    assert estimate.lower_bound == 0


async def test_preflight_passes_when_the_balance_can_pay(client: AsyncDosAI) -> None:
    """A small batch against $5: the estimate comes back with the balance it checked."""
    estimate = await preflight(client, [request() for _ in range(10)])
    assert estimate.balance == 5.0
    assert 0 < estimate.lower_bound <= estimate.upper


async def test_preflight_refuses_before_any_chat_request(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """A balance below the lower bound: PreflightError with the numbers; no chat sent."""
    emu.balance = 1e-9
    requests = [request("word " * 200) for _ in range(50)]
    with pytest.raises(PreflightError, match="cost at least") as caught:
        await preflight(client, requests)
    assert caught.value.code == "insufficient_credits"
    assert caught.value.balance == pytest.approx(1e-9)
    assert caught.value.lower_bound > caught.value.balance
    assert [r.path for r in emu.requests] == ["/v1/user/balance", "/v1/models"]


def write_lines(path: Path, count: int, text: str) -> None:
    """A Batch API input file of ``count`` chat requests."""
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": request(text),
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


async def test_run_batch_file_preflight_refuses_and_writes_nothing(
    client: AsyncDosAI, emu: DosAIEmulator, tmp_path: Path
) -> None:
    """``preflight=True`` with too little credit: no chat request, an empty output file."""
    emu.balance = 1e-9
    write_lines(tmp_path / "in.jsonl", 20, "word " * 200)
    with pytest.raises(PreflightError):
        await run_batch_file(client, tmp_path / "in.jsonl", tmp_path / "out.jsonl", preflight=True)
    assert not any(r.path.endswith("/chat/completions") for r in emu.requests)
    assert (tmp_path / "out.jsonl").read_text() == ""


async def test_run_batch_file_preflight_lets_an_affordable_batch_run(
    client: AsyncDosAI, tmp_path: Path
) -> None:
    """Enough credit: the batch runs as without the check."""
    write_lines(tmp_path / "in.jsonl", 3, "hi")
    summary = await run_batch_file(
        client, tmp_path / "in.jsonl", tmp_path / "out.jsonl", preflight=True
    )
    assert summary.succeeded == 3
