"""reload-agent's client: talk to a running agent from scripts and the command line.

Imports neither pygls nor lsprotocol, so ``reload-agent-cli`` starts fast.

Example (needs a running agent; discovery finds it as the CLI would)::

    from reload_agent_client import connect, select_agents
    [target] = select_agents(connect=None, token=None, pid=None, all_=False)
    with connect(target.address, target.token) as client:
        client.reload(["app.views"])
"""

from __future__ import annotations

__version__ = "0.1.0"

from .connection import Client, Notification, connect  # noqa: E402  (after __version__, which they import)
from .errors import (  # noqa: E402
    AuthError,
    ClientError,
    ConnectError,
    NothingToRollback,
    ProtocolError,
    ReloadFailed,
    RemoteError,
    RequestTimeout,
)
from .selection import SelectionError, Target, select_agents  # noqa: E402

__all__ = [
    "__version__",
    "Client",
    "Notification",
    "connect",
    "select_agents",
    "Target",
    "ClientError",
    "ConnectError",
    "AuthError",
    "ProtocolError",
    "RequestTimeout",
    "RemoteError",
    "ReloadFailed",
    "NothingToRollback",
    "SelectionError",
]
