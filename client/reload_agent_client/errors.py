"""Exceptions raised by the client library.

Every failure a caller can act on has its own type; all derive from
:class:`ClientError`. Errors the agent sent back keep their JSON-RPC ``code``,
``message`` and ``data`` (:class:`RemoteError`); a failed reload carries the
agent's structured report in :attr:`ReloadFailed.data`.

>>> err = error_from_response({"code": -32010, "message": "boom", "data": {"phase": "compile"}})
>>> type(err).__name__, err.code, err.data["phase"]
('ReloadFailed', -32010, 'compile')
"""

from __future__ import annotations

from .protocol import ErrorCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ClientError",
    "UsageError",
    "ConnectError",
    "ProtocolError",
    "RequestTimeout",
    "RemoteError",
    "AuthError",
    "ReloadFailed",
    "NothingToRollback",
    "error_from_response",
]


class ClientError(Exception):
    """Base of every error the client raises."""


class UsageError(ClientError):
    """The command line is wrong (``reload-agent-cli`` exit code 2)."""


class ConnectError(ClientError):
    """The agent could not be reached, or the connection dropped."""


class ProtocolError(ClientError):
    """The peer broke the framing or JSON-RPC rules."""


class RequestTimeout(ClientError, TimeoutError):
    """No answer within the timeout."""


class RemoteError(ClientError):
    """The agent answered a request with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """The ``error`` object as the agent sent it."""
        return {"code": self.code, "message": self.message, "data": self.data}


class AuthError(RemoteError, ConnectError):
    """The agent refused the token (-32001); it closes the connection."""


class ReloadFailed(RemoteError):
    """A reload failed (-32010); ``data`` says where and why, the process is unchanged."""


class NothingToRollback(RemoteError):
    """A rollback found nothing to undo, or was refused (-32011)."""


_BY_CODE: dict[int, type[RemoteError]] = {
    ErrorCode.UNAUTHORIZED: AuthError,
    ErrorCode.RELOAD_FAILED: ReloadFailed,
    ErrorCode.NOTHING_TO_ROLLBACK: NothingToRollback,
}


def error_from_response(error: dict[str, Any]) -> RemoteError:
    """Build the most specific :class:`RemoteError` for a JSON-RPC ``error`` object."""
    try:
        code = int(error.get("code", ErrorCode.INTERNAL_ERROR))
    except (TypeError, ValueError):
        code = int(ErrorCode.INTERNAL_ERROR)
    cls = _BY_CODE.get(code, RemoteError)
    return cls(code, str(error.get("message", "")), error.get("data"))
