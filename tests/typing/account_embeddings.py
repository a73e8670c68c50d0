"""Checked by mypy --strict, never executed: embeddings, key and balance as users write them."""

from __future__ import annotations

from typing import assert_type

from dosai_async import (
    AsyncDosAI,
    Balance,
    CostEstimate,
    CreateEmbeddingResponse,
    KeyInfo,
    preflight,
)


async def embeddings(client: AsyncDosAI) -> None:
    answer = await client.embeddings.create(input=["a", "b"], dimensions=256, timeout=5)
    assert_type(answer, CreateEmbeddingResponse)
    assert_type(answer.data[0].embedding, list[float])
    assert_type(answer.vectors, list[list[float]])
    many = await client.embeddings.create_many((f"t{i}" for i in range(1000)), batch_size=64)
    assert_type(many, CreateEmbeddingResponse)


async def account(client: AsyncDosAI) -> None:
    assert_type(await client.key.retrieve(), KeyInfo)
    balance = await client.balance.retrieve()
    assert_type(balance, Balance)
    assert_type(balance.balance, float | None)
    requests = [{"messages": [{"role": "user", "content": "hi"}]}]
    assert_type(await preflight(client, requests), CostEstimate)
