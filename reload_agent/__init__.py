"""reload-agent: live, transactional code reloading inside a running Python process.

Start the in-process agent and keep working::

    import reload_agent
    agent = reload_agent.listen()          # 127.0.0.1:<free port>, random token
    print(agent.address, agent.connection_file)

Importing this package is cheap: the agent's machinery (asyncio, pygls) loads
only when :func:`listen` is called, and pygls only on the agent's own thread.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not free to import, and the host pays for what listen() imports
    from collections.abc import Iterable
    from typing import Any

    from .agent import Agent

__version__ = "0.1.0"

__all__ = ["__version__", "listen", "checkpoint", "Agent"]


def listen(
    address: str | Iterable[str] | None = None,
    *,
    token: str | bool | None = None,
    watch: Iterable[str | os.PathLike[str]] = (),
    apply: Any = "thread",
    history: int = 10,
    max_message_bytes: int | None = None,
) -> Agent:
    """Start the agent in this process (or return the running one); returns within milliseconds.

    ``address``: ``HOST:PORT`` or ``unix:PATH`` (default ``$RELOAD_AGENT_LISTEN``, else
    ``127.0.0.1:0``); several (a list, or comma-separated) serve the same agent on each,
    the first being :attr:`Agent.address`. ``token``: ``None`` takes ``$RELOAD_AGENT_TOKEN`` or a random one;
    ``False`` runs without a token (explicit opt-out). ``watch``: paths whose ``.py``
    edits reload the loaded modules. ``apply``: ``"thread"``, ``"main"`` (run at
    :func:`checkpoint`) or an asyncio loop. ``history``: versions kept per module.
    """
    from reload_agent_client.protocol import DEFAULT_MAX_MESSAGE_BYTES

    from .agent import start_agent

    return start_agent(
        address,
        token=token,
        watch=watch,
        apply=apply,
        history=history,
        max_message_bytes=max_message_bytes or DEFAULT_MAX_MESSAGE_BYTES,
    )


def checkpoint(timeout: float = 0) -> int:
    """Run the reloads queued for this thread (``listen(apply="main")``); returns how many ran.

    Call it from the host's main loop at a point where swapping code is safe.
    ``timeout`` > 0 waits that long for a reload to arrive. Without a running
    agent it does nothing and returns 0.
    """
    import sys

    agent_module = sys.modules.get(f"{__name__}.agent")
    if agent_module is None:
        return 0
    agent = agent_module.current_agent()
    return agent.checkpoint(timeout) if agent is not None else 0


def __getattr__(name: str) -> Any:
    if name == "Agent":
        from .agent import Agent

        return Agent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
