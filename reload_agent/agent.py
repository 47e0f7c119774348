"""The agent's lifecycle: bind, thread, event loop, connection file, stop.

:func:`start_agent` binds the listening socket and writes the connection file
synchronously (so the address is real and discoverable when it returns), then
starts a daemon thread that imports pygls, builds the engine and serves
clients on its own asyncio loop. :meth:`Agent.stop` undoes all of it.

>>> import os, tempfile
>>> os.environ["RELOAD_AGENT_RUNTIME_DIR"] = tempfile.mkdtemp()
>>> agent = start_agent("127.0.0.1:0", token="t")
>>> agent.address.startswith("127.0.0.1:") and not agent.address.endswith(":0")
True
>>> agent.stop(); agent.running
False
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reload_agent_client import discovery
from reload_agent_client.protocol import (
    DEFAULT_MAX_MESSAGE_BYTES,
    ENV_LISTEN,
    ENV_TOKEN,
    NOTIFY_DID_RELOAD,
    NOTIFY_DID_ROLLBACK,
)

from . import transport

__all__ = ["Agent", "start_agent", "current_agent", "resolve_token", "parse_addresses"]

log = logging.getLogger("reload_agent")

DEFAULT_ADDRESS = "127.0.0.1:0"
_NOTIFICATIONS = {"didReload": NOTIFY_DID_RELOAD, "didRollback": NOTIFY_DID_ROLLBACK}

_lock = threading.Lock()
_current: Agent | None = None


def current_agent() -> Agent | None:
    """The running agent of this process, if any."""
    agent = _current
    return agent if agent is not None and agent.running else None


def resolve_token(token: str | bool | None, addresses: list[transport.Address]) -> str | None:
    """``None``: from ``RELOAD_AGENT_TOKEN`` or random; ``False``: no token (explicit opt-out)."""
    if token is False:
        for address in addresses:
            if address.kind == "tcp":
                log.warning(
                    "reload-agent: TCP %s without a token: any local user or process that can reach the port can "
                    "run code in this process",
                    address,
                )
        return None
    if token is None or token is True:
        return os.environ.get(ENV_TOKEN) or secrets.token_urlsafe(32)
    if not isinstance(token, str) or not token:
        raise ValueError("token must be a non-empty string, None (generate one) or False (no token)")
    return token


class Agent:
    """A running agent. Create it with :func:`reload_agent.listen`."""

    def __init__(
        self,
        addresses: list[transport.Address],
        token: str | None,
        *,
        watch: Iterable[str | os.PathLike[str]] = (),
        apply: Any = "thread",
        history: int = 10,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        engine: Any = None,
        executor: Any = None,
    ):
        self._requested = addresses
        self.token = token
        #: Where clients connect: the first address is the one in the connection file.
        self.addresses = [str(a) for a in addresses]
        self.address = self.addresses[0]
        self.pid = os.getpid()
        self.connection_file: str | None = None
        self._watch = [str(Path(p).resolve()) for p in watch]
        self._apply = apply
        self._history = history
        self._max_message_bytes = max_message_bytes
        self._engine = engine
        self._executor = executor
        self._socks: list[Any] = []
        self._unix_paths: list[str] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._stopped = False
        self._state_lock = threading.Lock()
        # The engine is built on the agent thread; the launcher's main module may arrive first.
        self._engine_ready = False
        self._pending_main: Any = None
        #: Set once the agent thread serves clients (or gave up trying).
        self.ready = threading.Event()
        self.startup_error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind, write the connection file and start the agent thread (returns in a few ms)."""
        try:
            for requested in self._requested:
                sock, bound = transport.bind(requested)
                self._socks.append(sock)
                if bound.kind == "unix":
                    self._unix_paths.append(bound.path)
                if not bound.is_loopback:
                    log.warning(
                        "reload-agent: listening on non-loopback address %s: anyone on the network who obtains the "
                        "token can run arbitrary code in this process",
                        bound,
                    )
                self.addresses[len(self._socks) - 1] = str(bound)
            self.address = self.addresses[0]
            if self._executor is None:
                from .engine import make_executor

                self._executor = make_executor(self._apply)
            info = discovery.AgentInfo.for_this_process(self.address, self.token)
            self._info = {k: getattr(info, k) for k in ("pid", "python", "argv", "cwd", "version")}
            self.connection_file = str(discovery.write_connection_file(info, discovery.runtime_dir(create=True)))
            self._loop = asyncio.new_event_loop()
            self._stop_requested = asyncio.Event()
            atexit.register(self._at_exit)
            self._thread = threading.Thread(target=self._run, name="reload-agent", daemon=True)
            self._thread.start()
        except BaseException:
            self._cleanup_files()
            for sock in self._socks:
                sock.close()
            raise

    @property
    def running(self) -> bool:
        return not self._stopped and self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection, remove the socket and connection file, join the thread."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
        global _current
        with _lock:
            if _current is self:
                _current = None
        loop, event = self._loop, self._stop_requested
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
        if self._executor is not None:
            try:
                self._executor.close()
            except Exception:
                log.debug("executor close failed", exc_info=True)
        self._cleanup_files()
        atexit.unregister(self._at_exit)

    def record_main(self, module: Any) -> None:
        """Tell the engine which module is the launched program (it reloads in patch mode only)."""
        with self._state_lock:
            if self._engine_ready:
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
        if self.connection_file:
            discovery.remove_connection_file(self.connection_file)
        for path in self._unix_paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- the agent thread -----------------------------------------------------------------------------------------

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # the agent never takes the host down
            self.startup_error = exc
            if not self._stopped:  # failing while being stopped (at interpreter exit) is expected
                log.warning("reload-agent stopped: %s: %s", type(exc).__name__, exc)
        finally:
            self.ready.set()
            try:
                _finish_tasks(loop)
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    async def _serve(self) -> None:
        from . import server  # pygls: ~0.5 s, paid here and not in the host's thread

        server.quiet_pygls_logging()
        engine = self._engine
        if engine is None:
            from .engine import Engine

            engine = Engine(history=self._history)
        with self._state_lock:
            self._engine = engine
            self._engine_ready = True
            if self._pending_main is not None:
                engine.record_main(self._pending_main)
        loop = asyncio.get_running_loop()
        hub = transport.Hub(token=self.token, max_message_bytes=self._max_message_bytes)
        context = server.AgentContext(engine, self._executor, hub, self._info, list(self._watch))
        hub.session_factory = server.session_factory(context)

        def on_engine_event(kind: str, params: dict[str, Any]) -> None:
            method = _NOTIFICATIONS.get(kind)
            if method is not None:
                message = {"jsonrpc": "2.0", "method": method, "params": params}
                try:
                    loop.call_soon_threadsafe(hub.broadcast, message)
                except RuntimeError:
                    pass  # stopping

        unsubscribe = engine.subscribe(on_engine_event)
        watcher = None
        try:
            for sock in self._socks:
                await hub.serve(sock)
            if self._watch:
                from .watch import Watcher

                watcher = Watcher(self._watch, lambda paths: _reload_files(engine, self._executor, paths))
                watcher.start()
            self.ready.set()
            assert self._stop_requested is not None
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
    if not modules:
        return
    future = executor.submit(engine.reload, modules=tuple(modules))
    # The outcome reaches clients as a didReload notification; a failure here is not news.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())


def parse_addresses(address: str | Iterable[str]) -> list[transport.Address]:
    """One address, several separated by commas, or a list of them (TCP and Unix may be mixed)."""
    items = address.split(",") if isinstance(address, str) else list(address)
    parsed = [transport.parse_address(a) for a in items if a.strip()]
    if not parsed:
        raise ValueError("no address to listen on")
    return parsed


def start_agent(
    address: str | Iterable[str] | None = None,
    *,
    token: str | bool | None = None,
    watch: Iterable[str | os.PathLike[str]] = (),
    apply: Any = "thread",
    history: int = 10,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    engine: Any = None,
    executor: Any = None,
) -> Agent:
    """Start this process's agent, or return the one already running."""
    global _current
    with _lock:
        if _current is not None and _current.running:
            return _current
        parsed = parse_addresses(address or os.environ.get(ENV_LISTEN) or DEFAULT_ADDRESS)
        if isinstance(watch, (str, os.PathLike)):
            watch = [watch]
        agent = Agent(
            parsed,
            resolve_token(token, parsed),
            watch=watch,
            apply=apply,
            history=history,
            max_message_bytes=max_message_bytes,
            engine=engine,
            executor=executor,
        )
        agent.start()
        _current = agent
        return agent

