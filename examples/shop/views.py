"""Request handlers: each takes the query parameters and returns the response text.

This is the module the demo edits while the shop is serving. ``ROUTES`` holds the function objects themselves;
reloads update those objects in place, so the table never needs rebuilding.

>>> from shop import model
>>> _ = model.build(delay_s=0)
>>> recommend({"item": "matcha"})
'with matcha, customers also bought: whisk, bowl, sencha'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shop import model, stats

__all__ = ["ROUTES", "index", "recommend", "health"]

Query = Mapping[str, str]


def index(query: Query) -> str:
    visits = stats.record("/")
    greeting = "Welcome to the tea shop!"
    m = model.current()
    return f"{greeting} | {stats.LABEL}: {visits} | model {m.id} (built once, in {m.build_seconds:.2f} s)"


def recommend(query: Query) -> str:
    item = query.get("item", "sencha")
    picks = model.current().suggest(item)
    if not picks:
        return f"nothing to suggest with {item}"
    return f"with {item}, customers also bought: {', '.join(picks)}"


def health(query: Query) -> str:
    """A self-test through the real handlers; any exception makes the server answer 500."""
    answer = recommend({"item": "sencha"})
    if "honey" not in answer:
        raise AssertionError(f"unexpected recommendation: {answer!r}")
    return "ok"


ROUTES: dict[str, Callable[[Query], str]] = {"/": index, "/recommend": recommend, "/health": health}
