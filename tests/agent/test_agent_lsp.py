"""The LSP side, driven by pygls's own LanguageClient over TCP against a real host process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from reload_agent_client.protocol import (
    COMMAND_LIST_MODULES,
    COMMAND_RELOAD,
    COMMAND_ROLLBACK,
    COMMANDS,
    METHOD_HISTORY,
)

pytestmark = pytest.mark.asyncio

GOOD = "def value():\n    return {n}\n"
BROKEN = "def value():\n    return 1\n\nx = (\n"


class Editor:
    """A pygls LanguageClient that records published diagnostics per URI."""

    def __init__(self) -> None:
        self.client = LanguageClient("test-editor", "1")
        self.diagnostics: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()
        #: Every URI diagnostics were published for, in order.
        self.published: list[str] = []

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published.append(params.uri)
            self.diagnostics.put_nowait(params)

    async def next_diagnostics(self, uri: str, timeout: float = 10.0) -> list[types.Diagnostic]:
        async with asyncio.timeout(timeout):
            while True:
                params = await self.diagnostics.get()
                if params.uri == uri:
                    return list(params.diagnostics)

    def save(self, path: Path) -> None:
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(path))))
        )


@contextlib.asynccontextmanager
async def editor_for(host) -> AsyncIterator[tuple[Editor, types.InitializeResult]]:
    editor = Editor()
    hostname, _, port = host.address.rpartition(":")
    await editor.client.start_tcp(hostname, int(port))
    try:
        result = await asyncio.wait_for(
            editor.client.initialize_async(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(),
                    initialization_options={"token": host.token},
                )
            ),
            10,
        )
        editor.client.initialized(types.InitializedParams())
        yield editor, result
        await asyncio.wait_for(editor.client.shutdown_async(None), 10)
        editor.client.exit(None)
    finally:
        await asyncio.wait_for(editor.client.stop(), 10)


async def test_initialize_advertises_save_and_commands(embedded):
    host = embedded()
    async with editor_for(host) as (_, result):
        caps = result.capabilities
        assert caps.execute_command_provider is not None
        assert sorted(caps.execute_command_provider.commands) == sorted(COMMANDS)
        sync = caps.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.save is not None and sync.save is not False
        assert result.server_info is not None and result.server_info.name == "reload-agent"


async def test_did_save_publishes_the_error_then_clears_it(embedded):
    host = embedded()
    mod = host.workdir / "mod_a.py"
    uri = from_fs_path(str(mod))
    async with editor_for(host) as (editor, _):
        mod.write_text(BROKEN)
        editor.save(mod)
        [diagnostic] = await editor.next_diagnostics(uri)
        assert diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.source == "reload-agent"
        assert diagnostic.message.startswith("SyntaxError:")
        assert diagnostic.range.start.line == 3  # 0-based: the unclosed "(" is on the 4th line
        mod.write_text(GOOD.format(n=2))
        editor.save(mod)
        assert await editor.next_diagnostics(uri) == []
        result = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=COMMAND_LIST_MODULES, arguments=["mod_a"])
        )
        [info] = [m for m in result["modules"] if m["name"] == "mod_a"]
        assert info["version"] == 1


async def test_did_save_of_a_file_not_loaded_does_nothing(embedded):
    host = embedded(files={"other.py": "x = 1\n"})
    async with editor_for(host) as (editor, _):
        editor.save(host.workdir / "other.py")
        editor.save(host.workdir / "mod_a.py")  # loaded: reloads, and its diagnostics mark the end
        assert await editor.next_diagnostics(from_fs_path(str(host.workdir / "mod_a.py"))) == []
        assert editor.published == [from_fs_path(str(host.workdir / "mod_a.py"))]
        history = await editor.client.protocol.send_request_async(METHOD_HISTORY, {})
        # (pygls's client hands custom results over as namedtuples)
        assert [list(t.modules) for t in history.transactions] == [["mod_a"]]


async def test_error_raised_inside_another_file_points_at_the_failing_module(embedded):
    files = {"helper.py": "def twice(x):\n    return 2 * x\n", "user.py": "import helper\n\nN = helper.twice(2)\n"}
    host = embedded(files=files, imports=["mod_a", "helper", "user"])
    helper, user = host.workdir / "helper.py", host.workdir / "user.py"
    async with editor_for(host) as (editor, _):
        # user's top level calls into helper, which raises: the diagnostic goes on user.py at the calling line.
        helper.write_text("def twice(x):\n    raise RuntimeError('nope')\n")
        await editor.client.protocol.send_request_async("reloadAgent/reload", {"modules": ["helper"]})
        user.write_text("import helper\n\nN = helper.twice(3)\n")
        editor.save(user)
        [diagnostic] = await editor.next_diagnostics(from_fs_path(str(user)))
        assert diagnostic.message.startswith("RuntimeError: nope")
        assert diagnostic.range.start.line == 2


async def test_execute_command_reload_and_rollback(embedded):
    host = embedded()
    async with editor_for(host) as (editor, _):
        (host.workdir / "mod_a.py").write_text(GOOD.format(n=5))
        reloaded = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=COMMAND_RELOAD, arguments=["mod_a"])
        )
        assert reloaded["modules"][0]["version"] == 1
        undone = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=COMMAND_ROLLBACK, arguments=["mod_a"])
        )
        assert undone["rolledBack"] == reloaded["transaction"]
        with pytest.raises(Exception) as failure:
            await editor.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=COMMAND_RELOAD, arguments=["no_such_module"])
            )
        assert getattr(failure.value, "code", None) == -32010
