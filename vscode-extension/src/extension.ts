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
import { resolveTarget, targetOf, type Target } from './target';

let connection: AgentConnection | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = new Log();
  const settings = (): Settings => {
    const problems: string[] = [];
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const s = readSettings(vscode.workspace.getConfiguration(SECTION), folders, problems);
    problems.forEach((p) => log.info(p));
    return s;
  };
  const rel: Relativize = (file) => vscode.workspace.asRelativePath(editorPath(file, settings().pathMappings) ?? file, false);
  const status = new StatusBar(rel);
  const diagnostics = new ReloadDiagnostics();
  const reloads = new Reloads(log, status, diagnostics, settings, rel);
  connection = new AgentConnection(log, {
    didSave: async (document, next) => {
      const s = settings();
      if (!s.reloadOnSave) {
        return;
      }
      if (s.pathMappings.length === 0) {
        // The agent reads the saved file itself and publishes diagnostics for it.
        return next(document);
      }
      // The agent cannot read our disk: push the buffer as the module's source.
      try {
        await reloads.reloadDocument(document);
      } catch (err) {
        log.error(`reload of ${document.uri.fsPath} failed`, err);
      }
    },
    stateChanged: (state) => {
      if (state.state !== 'connected') {
        reloads.detach();
      }
      status.setConnection(state);
    },
    connected: (api, client) => reloads.attach(api, client),
    autoTarget: () => automaticTarget(settings()),
  });
  context.subscriptions.push(
    log,
    status,
    diagnostics,
    reloads,
    { dispose: () => void connection?.dispose() },
    ...registerCommands({ connection, reloads, log, settings, rel }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['address', 'token'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) {
        const target = automaticTarget(settings());
        if (target !== undefined) {
          void connection?.connect(target);
        }
      }
    }),
  );
  await connection.connectAutomatically();
}

export async function deactivate(): Promise<void> {
  await connection?.dispose();
  connection = undefined;
}

/**
 * The agent to connect to without asking: the configured one, the only one
 * running, or, among several, the only one started inside this workspace.
 */
function automaticTarget(settings: Settings): Target | undefined {
  const resolution = resolveTarget(settings);
  if (resolution.kind === 'target') {
    return resolution.target;
  }
  if (resolution.kind === 'choose') {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const inside = resolution.agents.filter((a) => folders.some((f) => a.cwd === f || a.cwd.startsWith(`${f}/`)));
    return inside.length === 1 ? targetOf(inside[0]) : undefined;
  }
  return undefined;
}
