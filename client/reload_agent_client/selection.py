"""Which agent(s) a command talks to (CONTRACT section 3).

Order: an explicit ``--connect ADDRESS`` (+ ``--token``), else
``$RELOAD_AGENT_ADDRESS`` (+ ``$RELOAD_AGENT_TOKEN``), else the connection
files: exactly one live agent is used; with several, ``--pid N`` or ``--all``
must say which. Anything else raises :class:`SelectionError`, whose message
lists what was found so the user can choose.

>>> import tempfile
>>> empty = tempfile.mkdtemp()
>>> select_agents("unix:/tmp/x.sock", None, None, False, directory=empty, environ={})[0].address
'unix:/tmp/x.sock'
>>> try:
...     select_agents(None, None, None, False, directory=empty, environ={})
... except SelectionError as exc:
...     print(str(exc).startswith("no running agent found"))
True
"""

from __future__ import annotations

import collections
import os
from collections.abc import Mapping

from .discovery import AgentInfo, live_agents, runtime_dir_name
from .errors import ClientError
from .protocol import ENV_ADDRESS, ENV_TOKEN

__all__ = ["Target", "SelectionError", "select_agents", "describe_agents"]


class Target(collections.namedtuple("Target", "address token info", defaults=(None,))):
    """An agent to talk to: ``address``, ``token`` and what discovery knows of it (``info``, an :class:`AgentInfo`)."""

    __slots__ = ()

    @property
    def pid(self) -> int | None:
        """The agent's pid when discovery knows it (not for a bare ``--connect``)."""
        return self.info.pid if self.info is not None else None

    @property
    def label(self) -> str:
        """How reports name this agent: ``pid N at ADDRESS``."""
        return f"pid {self.pid} at {self.address}" if self.pid is not None else self.address


class SelectionError(ClientError):
    """No agent, or no single agent, matches the user's choice."""

    def __init__(self, message: str, agents: list[AgentInfo] | None = None) -> None:
        super().__init__(message)
        self.agents = list(agents or [])


def describe_agents(agents: list[AgentInfo]) -> list[str]:
    """One line per agent: pid, address and command line."""
    return [f"  pid {a.pid}  {a.address}  {' '.join(a.argv)}" for a in agents]


def select_agents(
    connect: str | None,
    token: str | None,
    pid: int | None,
    all_: bool,
    *,
    directory: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Target]:
    """The agents a command applies to, in the CONTRACT's order of precedence.

    ``directory`` and ``environ`` default to the real runtime directory and
    ``os.environ``; tests pass their own.
    """
    env = os.environ if environ is None else environ
    base = os.fspath(directory) if directory is not None else runtime_dir_name()
    address = connect or env.get(ENV_ADDRESS) or None
    if address:
        explicit = token if token is not None else env.get(ENV_TOKEN) or None
        known = next((a for a in live_agents(base) if a.address == address), None)
        if explicit is None and known is not None:
            # The user named the address but the connection file also knows the token.
            explicit = known.token
        return [Target(address, explicit, known)]

    agents = live_agents(base)
    if pid is not None:
        match = [a for a in agents if a.pid == pid]
        if not match:
            raise SelectionError(_listing(f"no running agent with pid {pid} in {base}", agents), agents)
        return [_target(match[0], token)]
    if not agents:
        raise SelectionError(
            f"no running agent found in {base}\n"
            f"  start one with `python -m reload_agent app.py`, or pass --connect ADDRESS",
            agents,
        )
    if all_ or len(agents) == 1:
        return [_target(a, token) for a in agents]
    raise SelectionError(_listing(f"{len(agents)} agents are running: choose one with --pid N, or use --all", agents), agents)


def _target(info: AgentInfo, token: str | None) -> Target:
    return Target(info.address, token if token is not None else info.token, info)


def _listing(headline: str, agents: list[AgentInfo]) -> str:
    return "\n".join([headline, *describe_agents(agents)])
