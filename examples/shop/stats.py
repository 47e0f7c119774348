"""In-memory request statistics.

Counts live in module globals. A body-only edit (patch mode) never re-runs this module's top level, so they survive
untouched. A full reload does re-run it, and ``hits = collections.Counter()`` would start again from zero: the two
hooks below hand the live objects over. They pass the objects themselves, not copies, so a later rollback (which
puts the old globals back) still finds every request counted.

>>> record("/doc-test") >= 1
True
"""

from __future__ import annotations

import collections
import threading
from typing import Any

__all__ = ["LABEL", "record", "count"]

LABEL = "visits"

hits: collections.Counter[str] = collections.Counter()
_lock = threading.Lock()


def record(path: str) -> int:
    """Count one request to ``path``; return how many that path has had."""
    with _lock:
        hits[path] += 1
        return hits[path]


def count(path: str) -> int:
    """Requests seen so far for ``path``."""
    with _lock:
        return hits[path]


def __reload_dispose__(data: dict[str, Any]) -> None:
    data["hits"] = hits
    data["lock"] = _lock


def __reload_accept__(data: dict[str, Any]) -> None:
    global hits, _lock
    hits = data["hits"]
    _lock = data["lock"]
