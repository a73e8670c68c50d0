"""Plausible English from a small vocabulary, and the emulator's notion of a token.

A token is a word or a run of punctuation with the whitespace before it (``" Paris"``, ``"."``;
trailing whitespace is a token of its own),
which is close enough to a real tokenizer for usage counts and for streaming deltas that
look like a model's. Joining the tokens of a text gives the text back.
"""

from __future__ import annotations

import random
import re

__all__ = ["sentence", "sentences", "tokens"]

_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+\Z")

_SUBJECTS = (
    "The model", "A good answer", "This approach", "The result", "Each step", "The system",
    "A short reply", "The data", "Our plan", "The request", "A clear example", "The team",
)  # fmt: skip
_VERBS = (
    "explains", "shows", "follows", "supports", "improves", "describes", "keeps", "builds",
    "checks", "combines", "reaches", "covers",
)  # fmt: skip
_OBJECTS = (
    "the main idea", "every detail", "a simple rule", "the key facts", "the next step",
    "a careful plan", "the whole picture", "a useful pattern", "the final goal", "each case",
    "the core question", "a steady pace",
)  # fmt: skip
_ENDINGS = (
    "clearly", "in a few words", "without fuss", "step by step", "with care", "quickly",
    "for most readers", "in practice", "at every stage", "as expected",
)  # fmt: skip


# Token counts of every phrase, so sentences() need not re-tokenize what it builds.
_COUNTS = {p: len(_TOKEN.findall(p)) for p in (*_SUBJECTS, *_VERBS, *_OBJECTS, *_ENDINGS)}


def tokens(text: str) -> list[str]:
    """Split text into tokens; ``"".join(tokens(text)) == text`` always."""
    return _TOKEN.findall(text)


def sentence(rng: random.Random) -> str:
    """One sentence such as "The model explains the main idea clearly."."""
    return " ".join(_phrases(rng)) + "."


def sentences(rng: random.Random, count: int) -> str:
    """Whole sentences adding up to at least ``count`` tokens (at least one sentence)."""
    out: list[str] = []
    total = 0
    while total < count or not out:
        phrases = _phrases(rng)
        out.append(" ".join(phrases) + ".")
        total += sum(_COUNTS[p] for p in phrases) + 1  # +1: the full stop
    return " ".join(out)


def _phrases(rng: random.Random) -> tuple[str, str, str, str]:
    """Subject, verb, object and ending of one sentence."""
    return (rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_ENDINGS))
