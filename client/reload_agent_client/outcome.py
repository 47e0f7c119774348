"""What one CLI command produced: exit code, JSON document and human text.

Commands return an :class:`Outcome` instead of printing, so the same command
can report alone, as one section of an ``--all`` run, or as JSON.

>>> error_document(UsageError("bad flag"), data={"kind": "usage"})
{'error': {'code': None, 'message': 'bad flag', 'data': {'kind': 'usage'}}}
"""

from __future__ import annotations

import collections

from .errors import (
    AuthError,
    ConnectError,
    NothingToRollback,
    ProtocolError,
    ReloadFailed,
    RemoteError,
    RequestTimeout,
    UsageError,
)
from .selection import SelectionError, Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Outcome", "error_document", "error_outcome"]


# A named tuple, not a dataclass: importing dataclasses (with inspect) would cost
# the CLI more than its whole round trip to the agent.
class Outcome(collections.namedtuple("Outcome", "code doc text failed", defaults=(False,))):
    """``code`` is the exit code; ``doc`` what ``--json`` prints; ``text`` what people read.

    ``failed`` is True when ``doc`` is an ``{"error": ...}`` document (text goes to stderr).
    """

    __slots__ = ()


def error_document(exc: BaseException, *, data: Any = None) -> dict[str, Any]:
    """``{"error": {code, message, data}}``: the agent's error as sent, or a client-side one.

    Client-side failures (usage, discovery, connection) have no JSON-RPC code:
    ``code`` is ``None`` and ``data.kind`` names the failure.
    """
    if isinstance(exc, RemoteError):
        return {"error": exc.to_json()}
    return {"error": {"code": None, "message": str(exc), "data": data}}


def error_outcome(exc: BaseException, target: Target | None = None) -> Outcome:
    """Exit code, ``{"error": ...}`` document and message for a failure."""
    from .render import format_failure

    where = f" ({target.label})" if target is not None else ""
    if isinstance(exc, ReloadFailed):
        return Outcome(1, error_document(exc), format_failure(exc.data, exc.message), failed=True)
    if isinstance(exc, NothingToRollback):
        return Outcome(1, error_document(exc), f"nothing to roll back: {exc.message}", failed=True)
    if isinstance(exc, AuthError):
        return Outcome(2, error_document(exc), f"the agent{where} refused the token: {exc.message}", failed=True)
    if isinstance(exc, RemoteError):
        return Outcome(2, error_document(exc), f"the agent{where} answered with error {exc.code}: {exc.message}", failed=True)
    kind = {
        SelectionError: "selection",
        RequestTimeout: "timeout",
        ConnectError: "connect",
        ProtocolError: "protocol",
        UsageError: "usage",
    }
    name = next((v for k, v in kind.items() if isinstance(exc, k)), "client")
    data: dict[str, Any] = {"kind": name}
    if isinstance(exc, SelectionError):
        data["agents"] = [{"pid": a.pid, "address": a.address, "argv": a.argv} for a in exc.agents]
    prefix = "" if isinstance(exc, (SelectionError, UsageError)) else f"reload-agent-cli{where}: "
    return Outcome(2, error_document(exc, data=data), f"{prefix}{exc}", failed=True)
