"""The agent's lifecycle: bind, thread, event loop, connection file, stop.

:func:`start_agent` only binds the listening sockets in the caller's thread (so
``Agent.address`` carries the real port when it returns) and starts a daemon
thread, about 2 ms of the host's CPU. That thread waits until the caller is done
(so the host never waits out a GIL switch interval behind the agent's start-up),
installs the engine's import hook, announces the agent (connection file), then
loads asyncio, pygls and the engine and serves clients on its own loop.
:meth:`Agent.stop` undoes all of it.

>>> import os, tempfile
>>> os.environ["RELOAD_AGENT_RUNTIME_DIR"] = tempfile.mkdtemp()
>>> agent = start_agent("127.0.0.1:0", token="t")
>>> agent.address.startswith("127.0.0.1:") and not agent.address.endswith(":0")
True
>>> agent.stop(); agent.running
False
"""

from __future__ import annotations

import atexit
import os
import threading

from reload_agent_client.protocol import DEFAULT_MAX_MESSAGE_BYTES, ENV_LISTEN, ENV_TOKEN

from . import listeners

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the host's thread an import; annotations are strings anyway
    import asyncio
    from collections.abc import Iterable
    from typing import Any

__all__ = ["Agent", "start_agent", "current_agent", "resolve_token", "parse_addresses"]

DEFAULT_ADDRESS = "127.0.0.1:0"
#: How long :attr:`Agent.connection_file` and the launcher wait for the file to be written (normally milliseconds).
ANNOUNCE_TIMEOUT = 10.0

_lock = threading.Lock()
_current: Agent | None = None


def _log() -> Any:
    import logging  # on first warning only: logging is not free to import

    return logging.getLogger("reload_agent")


def current_agent() -> Agent | None:
    """The running agent of this process, if any."""
    agent = _current
    return agent if agent is not None and agent.running else None


def resolve_token(token: str | bool | None) -> str | None:
    """``None``: from ``RELOAD_AGENT_TOKEN`` or random; ``False``: no token (explicit opt-out)."""
    if token is False:
        return None
    if token is None or token is True:
        # 256 random bits as hex: what secrets.token_hex(32) does, without importing secrets (random, hashlib) in
        # the host's thread.
        return os.environ.get(ENV_TOKEN) or os.urandom(32).hex()
    if not isinstance(token, str) or not token:
        raise ValueError("token must be a non-empty string, None (generate one) or False (no token)")
    return token


def parse_addresses(address: str | Iterable[str]) -> list[listeners.Address]:
    """One address, several separated by commas, or a list of them (TCP and Unix may be mixed)."""
    items = address.split(",") if isinstance(address, str) else list(address)
    parsed = [listeners.parse_address(a) for a in items if a.strip()]
    if not parsed:
        raise ValueError("no address to listen on")
    return parsed


class Agent:
    """A running agent. Create it with :func:`reload_agent.listen`."""

    def __init__(
        self,
        addresses: list[listeners.Address],
        token: str | None,
        *,
        watch: Iterable[str | os.PathLike[str]] = (),
        apply: Any = "thread",
        history: int = 10,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ):
        self._requested = addresses
        self.token = token
        #: Where clients connect; the first one is :attr:`address`, the one in the connection file.
        self.addresses = [str(a) for a in addresses]
        self.address = self.addresses[0]
        self.pid = os.getpid()
        self._connection_file: str | None = None
        self._watch = [os.path.realpath(os.fspath(p)) for p in watch]
        self._apply = apply
        self._history = history
        self._max_message_bytes = max_message_bytes
        # Both made on the agent thread (importing the engine and building an executor are not the host's to pay).
        self._engine: Any = None
        self._executor: Any = None
        self._socks: list[Any] = []
        self._unix_paths: list[str] = []
        self._thread: threading.Thread | None = None
        #: Held by the caller of :meth:`start` until it is done; the agent thread starts working once it is free.
        self._host_done = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._stopped = False
        self._state_lock = threading.Lock()
        # The launcher's main module may arrive before the engine exists.
        self._pending_main: Any = None
        #: Set once the connection file is written (or writing it failed).
        self.announced = threading.Event()
        #: Set once the agent thread serves clients (or gave up trying).
        self.ready = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind every address and start the agent thread (returns in a few ms)."""
        try:
            for i, requested in enumerate(self._requested):
                sock, bound = listeners.bind(requested)
                self._socks.append(sock)
                if bound.kind == "unix":
                    self._unix_paths.append(bound.path)
                self._requested[i] = bound
                self.addresses[i] = str(bound)
            self.address = self.addresses[0]
            atexit.register(self._at_exit)
            self._thread = threading.Thread(target=self._run, name="reload-agent", daemon=True)
            self._host_done.acquire()
            try:
                self._thread.start()
            finally:
                self._host_done.release()
        except BaseException:
            for sock in self._socks:
                sock.close()
            self._cleanup_files()
            raise

    @property
    def running(self) -> bool:
        return not self._stopped and self._thread is not None and self._thread.is_alive()

    @property
    def connection_file(self) -> str | None:
        """The connection file's path; waits (briefly) for the agent thread to write it."""
        self.announced.wait(ANNOUNCE_TIMEOUT)
        return self._connection_file

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection, remove the socket and connection file, join the thread."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
            loop, event = self._loop, self._stop_requested
        global _current
        with _lock:
            if _current is self:
                _current = None
        if loop is not None and event is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                pass  # the loop already ended
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        for sock in self._socks:
            sock.close()
        self._cleanup_files()
        atexit.unregister(self._at_exit)

    def record_main(self, module: Any) -> None:
        """Tell the engine which module is the launched program (it reloads in patch mode only)."""
        with self._state_lock:
            if self._engine is not None:
                self._engine.record_main(module)
            else:
                self._pending_main = module

    def checkpoint(self, timeout: float = 0) -> int:
        """Run reloads queued for the host thread (``apply="main"``); see :func:`reload_agent.checkpoint`."""
        run = getattr(self._executor, "checkpoint", None)
        return int(run(timeout) or 0) if run is not None else 0

    def _at_exit(self) -> None:
        # Closing connections is worth a moment; waiting out a pygls import that is still running is not.
        self.stop(timeout=0.5 if self.ready.is_set() else 0.0)

    def _cleanup_files(self) -> None:
        if os.getpid() != self.pid:
            return  # a forked child must not delete its parent's files
        if self._connection_file:
            from reload_agent_client.discovery import remove_connection_file

            remove_connection_file(self._connection_file)
        for path in self._unix_paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- the agent thread -----------------------------------------------------------------------------------------

    def _run(self) -> None:
        loop = None
        try:
            # Blocking here hands the GIL back to the host thread, which releases this lock as it leaves start():
            # otherwise the host would wait up to a switch interval (5 ms) while this thread imports.
            with self._host_done:
                pass
            # Here rather than in listen(): importing the engine costs ~3 ms. Modules the host imports in the
            # moment before get a stat baseline instead, like the ones loaded before listen() (read lazily, checked).
            from .engine import install_import_hook

            install_import_hook()
            self._warn_about_exposure()
            self._announce()
            import asyncio

            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # the agent never takes the host down
            if not self._stopped:  # failing while being stopped (at interpreter exit) is expected
                _log().warning("reload-agent stopped: %s: %s", type(exc).__name__, exc)
        finally:
            self.announced.set()
            self.ready.set()
            if loop is not None:
                try:
                    _finish_tasks(loop)
                    loop.run_until_complete(loop.shutdown_default_executor())
                finally:
                    loop.close()
            if self._executor is not None:
                try:
                    self._executor.close()
                except Exception:
                    _log().debug("executor close failed", exc_info=True)

    def _warn_about_exposure(self) -> None:
        for address in self._requested:
            if not address.is_loopback:
                _log().warning(
                    "reload-agent: listening on non-loopback address %s: anyone on the network who obtains the "
                    "token can run arbitrary code in this process",
                    address,
                )
            elif address.kind == "tcp" and self.token is None:
                _log().warning(
                    "reload-agent: TCP %s without a token: any local user or process that can reach the port can "
                    "run code in this process",
                    address,
                )

    def _announce(self) -> None:
        from reload_agent_client import discovery

        info = discovery.AgentInfo.for_this_process(self.address, self.token)
        self._info = {k: getattr(info, k) for k in ("pid", "python", "argv", "cwd", "version")}
        with self._state_lock:
            if self._stopped:
                return
            self._connection_file = str(discovery.write_connection_file(info, discovery.runtime_dir(create=True)))
        self.announced.set()

    async def _serve(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        with self._state_lock:
            if self._stopped:
                return
            self._stop_requested = asyncio.Event()
            self._loop = loop
            self._socks[:] = [listeners.adopt(sock) for sock in self._socks]
        from .engine import Engine, make_executor

        self._executor = make_executor(self._apply)
        from . import server, transport  # pygls: ~0.5 s, paid here and not in the host's thread

        server.quiet_pygls_logging()
        engine = Engine(history=self._history)
        with self._state_lock:
            self._engine = engine
            if self._pending_main is not None:
                engine.record_main(self._pending_main)
        hub = transport.Hub(token=self.token, max_message_bytes=self._max_message_bytes)
        context = server.AgentContext(
            engine, self._executor, hub, self._info, list(self._watch), sources_allowed=self.token is not None
        )
        hub.session_factory = server.session_factory(context)
        unsubscribe = engine.subscribe(server.broadcaster(loop, hub))
        watcher = None
        try:
            if self._watch:
                from .watch import Watcher

                watcher = Watcher(self._watch, lambda paths: _reload_files(engine, self._executor, paths))
                await asyncio.to_thread(watcher.start)  # serve only once edits are being seen
            for sock in self._socks:
                await hub.serve(sock)
            self.ready.set()
            await self._stop_requested.wait()
        finally:
            if watcher is not None:
                watcher.stop()
            unsubscribe()
            await hub.close()


def _finish_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and run out every task left on the loop (as ``asyncio.run`` does).

    A client accepted in the very pass that stopped the server still has a task
    holding its socket; running it to its end closes that socket instead of leaking it.
    """
    import asyncio

    for _ in range(10):  # cancelled tasks may start others (an accept's transport, its handler)
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if not tasks:
            return
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _reload_files(engine: Any, executor: Any, paths: list[str]) -> None:
    """Watch callback: reload, in one transaction, the loaded modules of the changed files."""
    modules: list[str] = []
    for path in paths:
        for name in engine.modules_for_file(path):
            if name not in modules:
                modules.append(name)
    if modules:
        # The outcome reaches clients as a didReload notification, so the future is not awaited.
        executor.submit(engine.reload, modules=tuple(modules))


def start_agent(
    address: str | Iterable[str] | None = None,
    *,
    token: str | bool | None = None,
    watch: Iterable[str | os.PathLike[str]] = (),
    apply: Any = "thread",
    history: int = 10,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> Agent:
    """Start this process's agent, or return the one already running."""
    global _current
    with _lock:
        if _current is not None and _current.running:
            return _current
        if isinstance(watch, (str, os.PathLike)):
            watch = [watch]
        agent = Agent(
            parse_addresses(address or os.environ.get(ENV_LISTEN) or DEFAULT_ADDRESS),
            resolve_token(token),
            watch=watch,
            apply=apply,
            history=history,
            max_message_bytes=max_message_bytes,
        )
        agent.start()
        _current = agent
        return agent

