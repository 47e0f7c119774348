"""The recommendation model: expensive to build, so losing it on every code change would hurt.

It counts which teas are bought together in past orders. The build also pauses for ``BUILD_DELAY_S`` to stand for
what a real service pays at start-up (loading weights, warming a cache); that cost is why the demo reloads code
instead of restarting the process.

>>> Recommender([("a", "b"), ("a", "c"), ("a", "b")]).suggest("a")
['b', 'c']
"""

from __future__ import annotations

import collections
import itertools
import secrets
import time
from collections.abc import Iterable, Sequence

__all__ = ["BUILD_DELAY_S", "ORDERS", "Recommender", "build", "current"]

BUILD_DELAY_S = 1.0

ORDERS: tuple[tuple[str, ...], ...] = (
    ("sencha", "honey", "teapot"),
    ("sencha", "matcha", "whisk"),
    ("matcha", "whisk", "bowl"),
    ("earl grey", "lemon", "honey"),
    ("earl grey", "milk", "scones"),
    ("darjeeling", "lemon", "teapot"),
    ("sencha", "honey"),
    ("oolong", "teapot", "cups"),
    ("earl grey", "honey", "cups"),
    ("rooibos", "honey", "lemon"),
)


class Recommender:
    """Items most often bought with a given one, from co-occurrence counts."""

    def __init__(self, orders: Iterable[Sequence[str]]) -> None:
        self.pairs: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for order in orders:
            for a, b in itertools.permutations(set(order), 2):
                self.pairs[a][b] += 1
        self.id = secrets.token_hex(3)
        self.build_seconds = 0.0

    def suggest(self, item: str, n: int = 3) -> list[str]:
        # Ties are broken by name so answers are stable from run to run.
        ranked = sorted(self.pairs.get(item, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        return [name for name, _ in ranked[:n]]


_model: Recommender | None = None


def build(delay_s: float = BUILD_DELAY_S) -> Recommender:
    """Build the model (slowly, on purpose) and make it the current one."""
    global _model
    started = time.perf_counter()
    model = Recommender(ORDERS)
    time.sleep(delay_s)
    model.build_seconds = time.perf_counter() - started
    _model = model
    return model


def current() -> Recommender:
    """The model built at start-up."""
    if _model is None:
        raise RuntimeError("the model has not been built yet: call shop.model.build() first")
    return _model
