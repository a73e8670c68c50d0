"""Which fault, if any, the next request on a route gets.

Order: the request's own ``X-Emulator-Fault`` header (the queue is then left alone), then the
route's FIFO queue, then the route's random rule. Methods are plain container operations,
so tests may call them from another thread than the emulator's (see ``in_thread``).
"""

from __future__ import annotations

import collections
import random

import attrs

from ._faults import Fault

__all__ = ["ROUTES", "FaultSchedule"]

ROUTES = ("chat", "models", "embeddings", "files", "batches", "batch-status", "account")


@attrs.frozen
class _RandomRule:
    """Inject ``fault`` into a ``rate`` share of requests, drawn from a seeded RNG."""

    fault: Fault
    rate: float
    rng: random.Random = attrs.field(eq=False)


class FaultSchedule:
    """Per-route FIFO queues and random rules."""

    def __init__(self) -> None:
        self._queues = {route: collections.deque[Fault]() for route in ROUTES}
        self._random: dict[str, _RandomRule] = {}

    def enqueue(self, route: str, faults: tuple[Fault, ...], times: int) -> None:
        """Queue ``faults`` in order, the whole sequence ``times`` times."""
        _check_route(route)
        if times < 0:
            raise ValueError("times must be >= 0")
        self._queues[route].extend(faults * times)

    def set_random(self, route: str, fault: Fault | None, rate: float, seed: int) -> None:
        """Inject ``fault`` into about ``rate`` of the route's requests; None removes the rule."""
        _check_route(route)
        if fault is None:
            self._random.pop(route, None)
            return
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self._random[route] = _RandomRule(fault, rate, random.Random(seed))

    def pending(self, route: str) -> int:
        """How many queued faults the route still has."""
        _check_route(route)
        return len(self._queues[route])

    def clear(self) -> None:
        """Drop every queued fault and random rule."""
        for queue in self._queues.values():
            queue.clear()
        self._random.clear()

    def next(self, route: str) -> Fault | None:
        """The fault for the route's next request, consuming it from the queue."""
        queue = self._queues[route]
        if queue:
            return queue.popleft()
        rule = self._random.get(route)
        if rule is not None and rule.rng.random() < rule.rate:
            return rule.fault
        return None


def _check_route(route: str) -> None:
    """Only the emulator's routes have schedules."""
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; routes are {', '.join(ROUTES)}")
