"""``dosai embed``, ``dosai balance`` and ``dosai batch --preflight`` as a user runs them;
and the official ``openai`` package's embeddings against ``dosai serve``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from dosai_async.testing import DosAIEmulator
from tests._cli import dosai, dosai_serve

TIMEOUT = 30


def remote(emu: DosAIEmulator) -> dict[str, str]:
    """Environment variables pointing the command at ``emu``."""
    return {"DOS_AI_BASE_URL": emu.base_url, "DOS_AI_API_KEY": emu.api_key}


@pytest.fixture
def funded() -> Iterator[DosAIEmulator]:
    """An emulator (from a thread) whose account holds $5."""
    with DosAIEmulator(balance=5.0).in_thread() as emu:
        yield emu


def test_embed_prints_dimensions_first_values_and_usage() -> None:
    """Two texts: a line per vector with its size and first values, then tokens and cost."""
    result = dosai("embed", "hello", "world", "--local")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[0] 'hello': 2560 dims [")
    assert lines[1].startswith("[1] 'world': 2560 dims [")
    assert lines[2].startswith("qwen3-embedding-4b: 2 tokens, $")


def test_embed_dimensions_and_json() -> None:
    """``--dimensions 8 --json`` prints the whole response with 8-float vectors."""
    result = dosai("embed", "hi", "--dimensions", "8", "--json", "--local")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert len(answer["data"][0]["embedding"]) == 8
    assert answer["usage"]["prompt_tokens"] == 1


def test_embed_an_empty_text_is_one_usage_error_line() -> None:
    """An empty TEXT: one line naming it, exit 2, nothing sent."""
    result = dosai("embed", "", "--local")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: TEXT[0] is an empty string; the API refuses those"


def test_embed_with_a_chat_model_is_the_servers_404() -> None:
    """``--model dos-ai``: the server's 404 as one line, exit 1."""
    result = dosai("embed", "hi", "--model", "dos-ai", "--local")
    assert result.returncode == 1
    assert "does not serve embeddings" in result.stderr


def test_balance_prints_credit_spending_and_key(funded: DosAIEmulator) -> None:
    """Against a $5 account: the balance, the spending, the key's limit and rate limit."""
    result = dosai("balance", **remote(funded))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["balance: 5.000000 USD", "spent:   0.000000 USD"]
    assert lines[2].startswith("key:     dos_sk_")
    assert lines[2].endswith(", used 0.000000 USD")
    assert lines[3:] == [
        "limit:   5.000000 USD (5.000000 USD left)",
        "rate:    300 requests per 60s",
    ]


def test_balance_json_holds_both_answers() -> None:
    """``--json``: the balance and the key objects as the server sent them."""
    result = dosai("balance", "--json", "--local")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["balance"]["currency"] == "USD"
    assert answer["key"]["rate_limit"] == {"requests": 300, "interval": "60s"}


def test_batch_preflight_refuses_a_batch_the_balance_cannot_pay(
    funded: DosAIEmulator, tmp_path: Path
) -> None:
    """``batch --preflight`` with almost no credit: one error line, no chat request sent."""
    funded.balance = 1e-9
    body = {"model": "dos-ai", "messages": [{"role": "user", "content": "word " * 400}]}
    lines = [
        {"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}
        for i in range(20)
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = dosai(
        "batch", str(source), str(tmp_path / "out.jsonl"), "--preflight", **remote(funded)
    )
    assert result.returncode == 1
    assert "Not starting the batch: its 20 requests cost at least $" in result.stderr
    assert not any(r.path.endswith("/chat/completions") for r in funded.requests)


@pytest.fixture
def served() -> Iterator[str]:
    """``dosai serve --port 0`` in the background; its base URL."""
    with dosai_serve(TIMEOUT) as url:
        yield url


async def test_openai_embeddings_work_against_dosai_serve(served: str) -> None:
    """The official ``AsyncOpenAI`` embeds (its default base64, and float) via ``dosai serve``."""
    async with openai.AsyncOpenAI(base_url=served, api_key="anything", max_retries=0) as client:
        packed = await client.embeddings.create(model="qwen3-embedding-4b", input=["a", "b"])
        floats = await client.embeddings.create(
            model="qwen3-embedding-4b", input=["a", "b"], encoding_format="float"
        )
    assert [len(item.embedding) for item in packed.data] == [2560, 2560]
    assert [item.embedding for item in packed.data] == [item.embedding for item in floats.data]
