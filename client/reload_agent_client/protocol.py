"""Wire facts of the reload-agent protocol: method names, error codes, limits.

This module is the one home of these facts. The agent (``reload_agent``) and the
client (``reload_agent_client``) both import it; the VS Code extension mirrors it
and a test checks that the two agree. ``docs/protocol.md`` is the prose
definition. Nothing here imports anything heavy, so the CLI starts fast.

>>> METHOD_RELOAD
'reloadAgent/reload'
>>> int(ErrorCode.RELOAD_FAILED)
-32010
"""

from __future__ import annotations

import enum

__all__ = [
    "PROTOCOL_VERSION",
    "METHOD_INITIALIZE",
    "METHOD_INITIALIZED",
    "METHOD_SHUTDOWN",
    "METHOD_EXIT",
    "METHOD_LIST_MODULES",
    "METHOD_RELOAD",
    "METHOD_ROLLBACK",
    "METHOD_HISTORY",
    "METHOD_STATUS",
    "NOTIFY_DID_RELOAD",
    "NOTIFY_DID_ROLLBACK",
    "COMMAND_RELOAD",
    "COMMAND_ROLLBACK",
    "COMMAND_LIST_MODULES",
    "COMMANDS",
    "ErrorCode",
    "PHASES",
    "MODES",
    "CONTENT_TYPE_JSON",
    "CONTENT_TYPE_MSGPACK",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_HEADER_BYTES",
    "ENV_LISTEN",
    "ENV_TOKEN",
    "ENV_ADDRESS",
    "ENV_RUNTIME_DIR",
]

#: Bumped when a method or a field changes incompatibly.
PROTOCOL_VERSION = 1

METHOD_INITIALIZE = "initialize"
METHOD_INITIALIZED = "initialized"
METHOD_SHUTDOWN = "shutdown"
METHOD_EXIT = "exit"

METHOD_LIST_MODULES = "reloadAgent/listModules"
METHOD_RELOAD = "reloadAgent/reload"
METHOD_ROLLBACK = "reloadAgent/rollback"
METHOD_HISTORY = "reloadAgent/history"
METHOD_STATUS = "reloadAgent/status"

NOTIFY_DID_RELOAD = "reloadAgent/didReload"
NOTIFY_DID_ROLLBACK = "reloadAgent/didRollback"

# workspace/executeCommand commands, for editors that only speak plain LSP.
COMMAND_RELOAD = "reloadAgent.reload"
COMMAND_ROLLBACK = "reloadAgent.rollback"
COMMAND_LIST_MODULES = "reloadAgent.listModules"
COMMANDS = (COMMAND_RELOAD, COMMAND_ROLLBACK, COMMAND_LIST_MODULES)


class ErrorCode(enum.IntEnum):
    """JSON-RPC error codes used by the agent (``docs/protocol.md`` section "Errors")."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    #: Wrong or missing token in ``initialize``; the connection is closed after it.
    UNAUTHORIZED = -32001
    #: A request other than ``initialize`` before a successful ``initialize``.
    NOT_INITIALIZED = -32002
    #: A reload failed; the process is as it was before. ``data`` describes the failure.
    RELOAD_FAILED = -32010
    #: ``rollback`` found nothing to undo, or was refused (a later transaction overlaps).
    NOTHING_TO_ROLLBACK = -32011


#: Where a reload can fail, in the order a transaction goes through them.
PHASES = ("resolve", "compile", "execute", "patch", "hook", "verify")

#: Reload modes a client may ask for.
MODES = ("auto", "patch", "full")

CONTENT_TYPE_JSON = "application/vscode-jsonrpc; charset=utf-8"
CONTENT_TYPE_MSGPACK = "application/msgpack"

#: Largest message body the agent accepts (configurable on the agent).
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
#: Largest header block; a peer that sends more is cut off.
MAX_HEADER_BYTES = 8 * 1024

ENV_LISTEN = "RELOAD_AGENT_LISTEN"
ENV_TOKEN = "RELOAD_AGENT_TOKEN"
ENV_ADDRESS = "RELOAD_AGENT_ADDRESS"
ENV_RUNTIME_DIR = "RELOAD_AGENT_RUNTIME_DIR"
