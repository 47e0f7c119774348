/**
 * Entry point: creates the parts and wires them together. Behaviour lives in
 * the modules it imports (connection, reloads, commands, status bar, settings).
 */
import * as vscode from 'vscode';

import { registerCommands } from './commands';
import { AgentConnection } from './connection';
import { ReloadDiagnostics } from './diagnostics';
import type { Relativize } from './format';
import { Log } from './logging';
import { editorPath } from './pathMapping';
import { Reloads } from './reloads';
import { readSettings, SECTION, type Settings } from './settings';
import { StatusBar } from './statusBar';
import { automaticTarget } from './target';

let connection: AgentConnection | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = new Log();
  const load = (): Settings => {
    const problems: string[] = [];
    const loaded = readSettings(vscode.workspace.getConfiguration(SECTION), workspaceFolders(), problems);
    problems.forEach((p) => log.info(p));
    return loaded;
  };
  let current = load();
  const settings = (): Settings => current;
  const rel: Relativize = (file) => vscode.workspace.asRelativePath(editorPath(file, settings().pathMappings) ?? file, false);
  const status = new StatusBar(rel);
  const diagnostics = new ReloadDiagnostics();
  const reloads = new Reloads(log, status, diagnostics, settings, rel);
  connection = new AgentConnection(log, {
    didSave: (document, next) => reloads.onSave(document, next),
    stateChanged: (state) => {
      if (state.state !== 'connected') {
        reloads.detach();
      }
      status.setConnection(state);
    },
    connected: (api, client) => reloads.attach(api, client),
    autoTarget: () => automaticTarget(settings(), workspaceFolders()),
  });
  context.subscriptions.push(
    log,
    status,
    diagnostics,
    reloads,
    { dispose: () => void connection?.dispose() },
    ...registerCommands({ connection, reloads, log, settings, rel }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      current = load();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) {
        return;
      }
      current = load();
      if (['address', 'token'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) {
        const target = automaticTarget(settings(), workspaceFolders());
        if (target !== undefined) {
          void connection?.connect(target);
        }
      }
    }),
  );
  // Not awaited: activation must not wait for a socket.
  void connection.connectAutomatically();
}

export async function deactivate(): Promise<void> {
  await connection?.dispose();
  connection = undefined;
}

function workspaceFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
}
