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

# Names resolve on first use, so `reload-agent-cli --help` does not pay for the
# client machinery it never touches.
_EXPORTS = {
    "Client": "connection",
    "Notification": "connection",
    "connect": "connection",
    "select_agents": "selection",
    "Target": "selection",
    "SelectionError": "selection",
    "ClientError": "errors",
    "ConnectError": "errors",
    "AuthError": "errors",
    "ProtocolError": "errors",
    "RequestTimeout": "errors",
    "RemoteError": "errors",
    "ReloadFailed": "errors",
    "NothingToRollback": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
