"""The language server: one pygls ``LanguageServer`` per client connection.

Imported only on the agent thread (pygls costs ~0.5 s to import). Each
connection gets an :class:`AgentSession` wrapping a ``LanguageServer`` whose
protocol writes through the transport's :class:`~reload_agent.transport.Connection`
(JSON or msgpack) and whose ``exit`` ends that connection only. All sessions
share one cattrs converter that keeps custom-method params as plain dicts.

Engine mutations (reload, rollback) run on the apply executor and, once
accepted, finish even if their client leaves; reads (list, history) run on a
worker thread; ``status`` is cheap and answered on the loop. None of them
blocks the server loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import linecache
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
    lsp_method,
)
from pygls.uris import from_fs_path, to_fs_path

from reload_agent_client import protocol as wire

from .engine.results import ReloadError, RollbackError
from .transport import Connection, Hub

__all__ = ["AgentContext", "AgentRpcError", "AgentSession", "session_factory", "broadcaster", "quiet_pygls_logging"]

SERVER_NAME = "reload-agent"
DIAGNOSTIC_SOURCE = "reload-agent"


_NOTIFICATIONS = {"didReload": wire.NOTIFY_DID_RELOAD, "didRollback": wire.NOTIFY_DID_ROLLBACK}


def broadcaster(loop: asyncio.AbstractEventLoop, hub: Hub) -> Callable[[str, dict[str, Any]], None]:
    """An engine subscriber relaying ``didReload``/``didRollback`` to every client, from whatever thread reloads."""

    def on_engine_event(kind: str, params: dict[str, Any]) -> None:
        method = _NOTIFICATIONS.get(kind)
        if method is None:
            return
        try:
            loop.call_soon_threadsafe(hub.broadcast, {"jsonrpc": "2.0", "method": method, "params": params})
        except RuntimeError:
            pass  # the agent is stopping: nobody left to tell

    return on_engine_event


def quiet_pygls_logging() -> None:
    """Keep pygls/lsprotocol from writing per-message chatter into the host's logs.

    Only these loggers are touched, never the root configuration. The
    NullHandler stops Python's last-resort handler from printing to stderr in a
    host that never configured logging.
    """
    for name in ("pygls", "lsprotocol"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


@dataclasses.dataclass
class AgentContext:
    """What every session needs from the running agent."""

    engine: Any
    executor: Any
    hub: Hub
    #: ``{pid, python, argv, cwd, version}`` for the initialize result.
    info: dict[str, Any]
    watching: list[str]
    #: Pushed source text is code a client sends us to run: only accepted by an agent that checks a token.
    sources_allowed: bool = True
    started: float = dataclasses.field(default_factory=time.monotonic)

    def status(self) -> dict[str, Any]:
        counts = self.engine.status()
        return {
            "pid": self.info["pid"],
            "version": self.info["version"],
            "uptimeS": round(time.monotonic() - self.started, 3),
            "modules": counts["modules"],
            "transactions": counts["transactions"],
            "clients": sum(1 for c in self.hub.connections if c.authenticated),
            "watching": list(self.watching),
        }


class AgentRpcError(JsonRpcException):
    """An expected error answer (a failed reload, bad params): sent without logging."""


_converter = None


def _shared_converter() -> Any:
    """One converter for all connections (building one costs 7-54 ms).

    Custom methods keep their params as dicts: pygls would turn them into
    namedtuples, which is slow and mangles keys that are not identifiers.
    """
    global _converter
    if _converter is None:
        conv = default_converter()
        conv.register_structure_hook(
            JsonRPCRequestMessage,
            lambda obj, cls: cls(id=obj["id"], method=obj["method"], jsonrpc=obj["jsonrpc"], params=obj.get("params")),
        )
        conv.register_structure_hook(
            JsonRPCNotification,
            lambda obj, cls: cls(method=obj["method"], jsonrpc=obj["jsonrpc"], params=obj.get("params")),
        )
        conv.register_structure_hook(
            JsonRPCResponseMessage,
            lambda obj, cls: cls(id=obj["id"], jsonrpc=obj["jsonrpc"], result=obj.get("result")),
        )
        _converter = conv
    return _converter


class AgentProtocol(LanguageServerProtocol):
    """pygls's LSP protocol, bound to one transport connection."""

    connection: Connection
    context: AgentContext

    def _send_data(self, data: Any) -> None:
        if not data:
            return
        is_response = not hasattr(data, "method")
        self.connection.send(
            data, msg_id=getattr(data, "id", None), is_response=is_response, default=self._serialize_message
        )

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        if not future.cancelled() and isinstance(future.exception(), AgentRpcError):
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=future.exception().to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        result = yield from super().lsp_initialize(params)
        data = self._converter.unstructure(result)
        data["reloadAgent"] = dict(self.context.info)
        return data

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:
        # pygls would sys.exit() the whole host here; end this connection only.
        self.connection.close()

    def knows(self, method: str) -> bool:
        return method in self.fm.features or method in self.fm.builtin_features or method == types.CANCEL_REQUEST


class AgentSession:
    """One client: a LanguageServer with the agent's features, fed by the transport."""

    def __init__(self, context: AgentContext, connection: Connection):
        self.context = context
        self.connection = connection
        #: URIs this client was shown diagnostics for, cleared on the next success.
        self._flagged: set[str] = set()
        self.server = LanguageServer(
            SERVER_NAME,
            context.info["version"],
            text_document_sync_kind=types.TextDocumentSyncKind.None_,
            protocol_cls=AgentProtocol,
            converter_factory=_shared_converter,
        )
        proto = self.server.protocol
        assert isinstance(proto, AgentProtocol)
        proto.connection = connection
        proto.context = context
        self.protocol = proto
        self._register()

    # -- transport side -------------------------------------------------------------------------------------------

    def handle(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        is_request = "id" in message
        if method is not None and not self.protocol.knows(method):
            if is_request:  # unknown notifications are ignored, as LSP asks
                self.connection.send_error(message["id"], wire.ErrorCode.METHOD_NOT_FOUND, f"unknown method {method!r}")
            return
        if is_request and self.protocol._shutdown:
            # pygls drops requests after shutdown without a word; LSP wants them refused.
            self.connection.send_error(message["id"], wire.ErrorCode.INVALID_REQUEST, "the connection is shutting down")
            return
        if is_request and _is_lsp_notification(method):
            # pygls would treat it as the notification and never answer: the client would wait forever.
            self.connection.send_error(
                message["id"], wire.ErrorCode.INVALID_REQUEST, f"{method} is a notification, not a request"
            )
            return
        try:
            structured = self.protocol.structure_message(message)
        except JsonRpcException as exc:
            if is_request:
                self.connection.send_error(message["id"], exc.code, f"invalid message: {exc.__cause__ or exc}")
            return
        self.protocol.handle_message(structured)

    def closed(self) -> None:
        for future in list(self.protocol._request_futures.values()):
            future.cancel()
        if self.server._thread_pool is not None:
            self.server._thread_pool.shutdown(wait=False)

    # -- engine calls ---------------------------------------------------------------------------------------------

    async def _apply(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a mutation on the apply executor; engine errors come back as RPC errors.

        Shielded: once accepted, a reload runs (and is broadcast) even if its client
        disconnects or cancels while it waits for the executor (a checkpoint, say).
        """
        try:
            return await asyncio.shield(asyncio.wrap_future(self.context.executor.submit(fn, *args, **kwargs)))
        except ReloadError as exc:
            raise AgentRpcError(str(exc), wire.ErrorCode.RELOAD_FAILED, exc.to_json()) from None
        except RollbackError as exc:
            raise AgentRpcError(str(exc), wire.ErrorCode.NOTHING_TO_ROLLBACK, exc.to_json()) from None
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # reloaded code may raise anything, SystemExit included
            raise AgentRpcError(f"{type(exc).__name__}: {exc}", wire.ErrorCode.INTERNAL_ERROR) from None

    async def _read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a read-only engine call on a worker thread (never waits for a checkpoint)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, lambda: fn(*args, **kwargs))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            raise AgentRpcError(f"{type(exc).__name__}: {exc}", wire.ErrorCode.INTERNAL_ERROR) from None

    async def list_modules(self, pattern: str | None = None, stale: bool = False) -> dict[str, Any]:
        modules = await self._read(self.context.engine.list_modules, pattern=pattern, stale=stale)
        return {"modules": [m.to_json() for m in modules]}

    async def reload(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("sources") and not self.context.sources_allowed:
            raise AgentRpcError(
                "'sources' runs code sent over the connection: refused by an agent started without a token",
                wire.ErrorCode.UNAUTHORIZED,
            )
        result = await self._apply(self.context.engine.reload, **kwargs)
        return result.to_json()

    async def rollback(self, module: str | None = None, transaction: int | None = None) -> dict[str, Any]:
        result = await self._apply(self.context.engine.rollback, module=module, transaction=transaction)
        return result.to_json()

    # -- features -------------------------------------------------------------------------------------------------

    def _register(self) -> None:
        ls = self.server

        @ls.feature(wire.METHOD_LIST_MODULES)
        async def _list(params: Any) -> dict[str, Any]:
            p = _Params(params)
            return await self.list_modules(pattern=p.get("pattern", str), stale=p.get("stale", bool, False))

        @ls.feature(wire.METHOD_RELOAD)
        async def _reload(params: Any) -> dict[str, Any]:
            p = _Params(params)
            mode = p.get("mode", str, "auto")
            if mode not in wire.MODES:
                raise AgentRpcError(f"mode must be one of {', '.join(wire.MODES)}", wire.ErrorCode.INVALID_PARAMS)
            return await self.reload(
                modules=tuple(p.get_list("modules")),
                files=tuple(os.path.abspath(f) for f in p.get_list("files")),
                stale=p.get("stale", bool, False),
                dependents=p.get("dependents", bool, False),
                mode=mode,
                sources=p.get_sources(),
                dry_run=p.get("dryRun", bool, False),
            )

        @ls.feature(wire.METHOD_ROLLBACK)
        async def _rollback(params: Any) -> dict[str, Any]:
            p = _Params(params)
            return await self.rollback(module=p.get("module", str), transaction=p.get("transaction", int))

        @ls.feature(wire.METHOD_HISTORY)
        async def _history(params: Any) -> dict[str, Any]:
            limit = _Params(params).get("limit", int)
            records = await self._read(self.context.engine.history, limit=limit)
            return {"transactions": [r.to_json() for r in records]}

        @ls.feature(wire.METHOD_STATUS)
        def _status(params: Any) -> dict[str, Any]:
            # On the loop, not a worker: it counts the connections, which only the loop may touch; and it is cheap.
            return self.context.status()

        @ls.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
        async def _did_save(params: types.DidSaveTextDocumentParams) -> None:
            await self.did_save(params.text_document.uri, params.text)

        @ls.command(wire.COMMAND_RELOAD)
        async def _cmd_reload(*names: Any) -> dict[str, Any]:
            if not names or not all(isinstance(n, str) for n in names):
                raise AgentRpcError("reloadAgent.reload takes module names", wire.ErrorCode.INVALID_PARAMS)
            return await self.reload(modules=tuple(names))

        @ls.command(wire.COMMAND_ROLLBACK)
        async def _cmd_rollback(*args: Any) -> dict[str, Any]:
            module = args[0] if args else None
            if module is not None and not isinstance(module, str):
                raise AgentRpcError("reloadAgent.rollback takes an optional module name", wire.ErrorCode.INVALID_PARAMS)
            return await self.rollback(module=module)

        @ls.command(wire.COMMAND_LIST_MODULES)
        async def _cmd_list(*args: Any) -> dict[str, Any]:
            pattern = args[0] if args and isinstance(args[0], str) else None
            return await self.list_modules(pattern=pattern)

    # -- didSave -> reload -> diagnostics -----------------------------------------------------------------------

    async def did_save(self, uri: str, text: str | None) -> None:
        path = to_fs_path(uri)
        if path is None:
            return
        engine = self.context.engine
        modules = await self._read(engine.modules_for_file, path)
        if not modules:
            return  # not loaded in this process: nothing to reload
        # Without a token, saved text is not trusted as code: the file on disk is reloaded instead.
        sources = {m: text for m in modules} if text is not None and self.context.sources_allowed else None
        try:
            await self._apply(engine.reload, modules=tuple(modules), sources=sources)
        except AgentRpcError as exc:
            if exc.code != wire.ErrorCode.RELOAD_FAILED or not isinstance(exc.data, dict):
                raise
            target, diagnostic = await self._read(self._diagnostic_for, exc.data, path)
            self._publish(target, [diagnostic])
            if target != uri:
                self._publish(uri, [])
            return
        for flagged in sorted(self._flagged | {uri}):
            self._publish(flagged, [])

    def _diagnostic_for(self, data: dict[str, Any], saved_path: str) -> tuple[str, types.Diagnostic]:
        """Where to show a failed reload: the failing module's file, at the error's line."""
        exc = data.get("exception") or {}
        module_file = self._module_file(data.get("module")) or saved_path
        file, line, column = exc.get("file"), exc.get("line"), exc.get("column")
        if file != module_file:
            # The error surfaced elsewhere (a library frame): point at the module's own deepest frame.
            frame = next((f for f in reversed(exc.get("traceback") or []) if f.get("file") == module_file), None)
            file, line, column = module_file, (frame or {}).get("line"), None
        row = max((line or 1) - 1, 0)
        col = max(column or 0, 0)
        text = linecache.getline(file, row + 1).rstrip("\n")
        end = types.Position(row, max(len(text), col + 1)) if column is None else types.Position(row, col + 1)
        message = f"{exc.get('type', 'Error')}: {exc.get('message', '')}"
        if data.get("phase"):
            message += f" (reload failed in phase {data['phase']}, rolled back)"
        diagnostic = types.Diagnostic(
            range=types.Range(types.Position(row, col), end),
            message=message,
            severity=types.DiagnosticSeverity.Error,
            source=DIAGNOSTIC_SOURCE,
        )
        return from_fs_path(file) or file, diagnostic

    def _module_file(self, name: str | None) -> str | None:
        if not name:
            return None
        for info in self.context.engine.list_modules(pattern=name):
            if info.name == name:
                return info.file
        return None

    def _publish(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        if diagnostics:
            self._flagged.add(uri)
        else:
            self._flagged.discard(uri)
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))


def _is_lsp_notification(method: str | None) -> bool:
    """True for LSP methods that are notifications (they have no response type)."""
    entry = types.METHOD_TO_TYPES.get(method) if method else None
    return entry is not None and entry[1] is None


class _Params:
    """Typed access to a custom method's params dict, with JSON-RPC invalid-params errors."""

    def __init__(self, params: Any):
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise AgentRpcError("params must be an object", wire.ErrorCode.INVALID_PARAMS)
        self._p = params

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        value = self._p.get(key)
        if value is None:
            return default
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise AgentRpcError(f"{key!r} must be a {kind.__name__}", wire.ErrorCode.INVALID_PARAMS)
        return value

    def get_list(self, key: str) -> list[str]:
        value = self._p.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise AgentRpcError(f"{key!r} must be a list of strings", wire.ErrorCode.INVALID_PARAMS)
        return value

    def get_sources(self) -> dict[str, str] | None:
        value = self._p.get("sources")
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise AgentRpcError("'sources' must map module names to text", wire.ErrorCode.INVALID_PARAMS)
        return value


def session_factory(context: AgentContext) -> Callable[[Connection], AgentSession]:
    """The transport's session factory for this agent."""
    return lambda connection: AgentSession(context, connection)

