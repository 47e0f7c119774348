"""Connection files: how clients find running agents (CONTRACT section 3).

Each agent writes ``agent-<pid>.json`` (mode 0600) into the runtime directory
(mode 0700). The agent writes it with :func:`write_connection_file` and removes it
with :func:`remove_connection_file`; every client reads them with
:func:`live_agents`, which ignores and deletes files left by dead processes.
This one module is used by both sides so the format has a single definition.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> info = AgentInfo.for_this_process("127.0.0.1:1234", "secret")
>>> path = write_connection_file(info, d)
>>> [a.pid for a in live_agents(d)] == [os.getpid()]
True
"""

from __future__ import annotations

import collections
import errno
import json
import os
import sys

from .protocol import ENV_RUNTIME_DIR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "AgentInfo",
    "runtime_dir",
    "runtime_dir_name",
    "connection_file_path",
    "write_connection_file",
    "remove_connection_file",
    "live_agents",
    "pid_alive",
]

_PREFIX = "agent-"
_SUFFIX = ".json"
#: The fields of a connection file, in the order they are written.
_FIELDS = ("pid", "address", "token", "argv", "cwd", "python", "version", "started")


# A named tuple, not a dataclass: the CLI reads these on every run, and importing
# dataclasses (with inspect) costs it more than its round trip to the agent.
class AgentInfo(collections.namedtuple("AgentInfo", (*_FIELDS, "path"), defaults=(None,))):
    """The content of one connection file, and ``path``: the file it was read from (``None`` when not read).

    ``pid`` is an int, ``token`` a str or ``None``, ``argv`` a list of str, the other fields str.
    """

    __slots__ = ()

    # Where the file was read from is not part of what the agent is: compare the rest.
    def __eq__(self, other: object) -> bool:
        return self[:-1] == other[:-1] if isinstance(other, AgentInfo) else NotImplemented

    def __ne__(self, other: object) -> bool:
        return self[:-1] != other[:-1] if isinstance(other, AgentInfo) else NotImplemented

    def __hash__(self) -> int:
        return hash(self[:-1])

    @classmethod
    def for_this_process(cls, address: str, token: str | None) -> AgentInfo:
        import datetime

        from . import __version__

        return cls(
            pid=os.getpid(),
            address=address,
            token=token,
            argv=list(sys.argv),
            cwd=os.getcwd(),
            python=sys.executable,
            version=__version__,
            started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        )

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = dict(zip(_FIELDS, self))
        data["argv"] = list(self.argv)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object], path: str | None = None) -> AgentInfo:
        return cls(
            pid=int(data["pid"]),  # type: ignore[arg-type]
            address=str(data["address"]),
            token=None if data.get("token") is None else str(data["token"]),
            argv=[str(a) for a in data.get("argv", [])],  # type: ignore[union-attr]
            cwd=str(data.get("cwd", "")),
            python=str(data.get("python", "")),
            version=str(data.get("version", "")),
            started=str(data.get("started", "")),
            path=path,
        )


def runtime_dir_name() -> str:
    """The directory holding connection files, as a string; it may not exist.

    ``$RELOAD_AGENT_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/reload-agent``, else
    ``~/.cache/reload-agent/run``. Clients read it on every run: plain strings
    spare them pathlib's import, which costs more than the whole look-up.
    """
    explicit = os.environ.get(ENV_RUNTIME_DIR)
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "reload-agent")
    return os.path.join(os.path.expanduser("~"), ".cache", "reload-agent", "run")


def runtime_dir(create: bool = False) -> Path:
    """:func:`runtime_dir_name` as a path; with ``create``, it is made with mode 0700."""
    from pathlib import Path

    path = Path(runtime_dir_name())
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is masked by the umask and ignored for an existing dir.
        os.chmod(path, 0o700)
    return path


def connection_file_path(pid: int, directory: str | os.PathLike[str] | None = None) -> Path:
    from pathlib import Path

    base = Path(directory) if directory is not None else runtime_dir()
    return base / f"{_PREFIX}{pid}{_SUFFIX}"


def write_connection_file(info: AgentInfo, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``info`` atomically with mode 0600 into ``directory`` (default: :func:`runtime_dir`)."""
    from pathlib import Path

    base = Path(directory) if directory is not None else runtime_dir(create=True)
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = connection_file_path(info.pid, base)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # O_EXCL + 0600 from the start: the token is never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(info.to_json(), f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    return path


def remove_connection_file(path: str | os.PathLike[str]) -> None:
    _unlink(path)


def pid_alive(pid: int) -> bool:
    """True when a process with ``pid`` exists (it may belong to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def live_agents(directory: str | os.PathLike[str] | None = None, *, clean: bool = True) -> list[AgentInfo]:
    """Agents whose connection files name a live process, oldest pid first.

    Files of dead processes and unreadable files are skipped; with ``clean`` the
    dead ones are deleted so they cannot confuse a later look-up.
    """
    base = os.fspath(directory) if directory is not None else runtime_dir_name()
    try:
        names = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    agents = []
    for name in names:
        if not (name.startswith(_PREFIX) and name.endswith(_SUFFIX)):
            continue
        path = os.path.join(base, name)
        try:
            with open(path, encoding="utf-8") as f:
                info = AgentInfo.from_json(json.load(f), path=path)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid_alive(info.pid):
            agents.append(info)
        elif clean:
            _unlink(path)
    agents.sort(key=lambda a: a.pid)
    return agents


def _unlink(path: str | os.PathLike[str]) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
