/**
 * The five commands of CONTRACT section 7. Each turns failures into a message
 * instead of throwing into VS Code.
 */
import * as vscode from 'vscode';

import { AgentError } from './agentApi';
import type { AgentConnection } from './connection';
import { agentItems, LAUNCH_COMMAND, moduleItems, noAgentMessage, transactionItem, undoable, type Relativize } from './format';
import type { Log } from './logging';
import type { Outcome } from './outcome';
import { editorPath } from './pathMapping';
import type { Reloads } from './reloads';
import type { Settings } from './settings';
import { resolveTarget, targetOf } from './target';

export interface CommandContext {
  connection: AgentConnection;
  reloads: Reloads;
  log: Log;
  settings: () => Settings;
  rel: Relativize;
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const commands: Record<string, () => Promise<unknown>> = {
    'reloadAgent.connect': () => connect(ctx),
    'reloadAgent.reloadCurrentModule': () => reloadCurrentModule(ctx),
    'reloadAgent.rollback': () => rollback(ctx),
    'reloadAgent.showModules': () => showModules(ctx),
    'reloadAgent.showHistory': () => showHistory(ctx),
  };
  return Object.entries(commands).map(([id, run]) =>
    vscode.commands.registerCommand(id, async () => {
      try {
        return await run();
      } catch (err) {
        ctx.log.error(id, err);
        void vscode.window.showErrorMessage(`Reload Agent: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    }),
  );
}

async function connect(ctx: CommandContext): Promise<boolean> {
  const resolution = resolveTarget(ctx.settings());
  if (resolution.kind === 'none') {
    const copy = 'Copy Command';
    void vscode.window.showErrorMessage(noAgentMessage(resolution.dir), copy).then(async (choice) => {
      if (choice === copy) {
        await vscode.env.clipboard.writeText(LAUNCH_COMMAND);
      }
    });
    return false;
  }
  let target = resolution.kind === 'target' ? resolution.target : undefined;
  if (resolution.kind === 'choose') {
    const picked = await vscode.window.showQuickPick(agentItems(resolution.agents), {
      title: 'Reload Agent: several agents are running',
      placeHolder: 'Pick the process to connect to',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (picked === undefined) {
      return false;
    }
    target = targetOf(picked.value);
  }
  if (target === undefined) {
    return false;
  }
  const ok = await ctx.connection.connect(target);
  if (!ok) {
    void vscode.window.showErrorMessage(`Reload Agent: could not connect to ${target.address} (see the "Reload Agent" output).`);
  }
  return ok;
}

async function reloadCurrentModule(ctx: CommandContext): Promise<Outcome | undefined> {
  const document = vscode.window.activeTextEditor?.document;
  if (document === undefined || document.uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('Reload Agent: open a Python file of the running program first.');
    return undefined;
  }
  const outcome = await ctx.reloads.reloadDocument(document);
  if (outcome === undefined) {
    void vscode.window.showWarningMessage(`Reload Agent: ${ctx.rel(document.uri.fsPath)} is not loaded by the running program.`);
  } else {
    announce(ctx, outcome);
  }
  return outcome;
}

async function rollback(ctx: CommandContext): Promise<Outcome | undefined> {
  const api = ctx.reloads.requireApi();
  const candidates = undoable(await api.history());
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage('Reload Agent: nothing to roll back.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((t) => transactionItem(t, ctx.rel)),
    { title: 'Reload Agent: roll back a transaction', placeHolder: 'Newest first; later transactions on the same modules must be rolled back first' },
  );
  if (picked === undefined) {
    return undefined;
  }
  try {
    const outcome = await ctx.reloads.rollback(picked.value.id);
    announce(ctx, outcome);
    return outcome;
  } catch (err) {
    if (err instanceof AgentError && err.nothingToRollback) {
      void vscode.window.showWarningMessage(`Reload Agent: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

async function showModules(ctx: CommandContext): Promise<Outcome | undefined> {
  const api = ctx.reloads.requireApi();
  const modules = (await api.listModules()).filter((m) => m.reloadable);
  const mappings = ctx.settings().pathMappings;
  const picked = await vscode.window.showQuickPick(
    moduleItems(modules, (f) => ctx.rel(editorPath(f, mappings) ?? f)),
    { title: 'Reload Agent: modules of the running program', placeHolder: 'Pick a module to reload it', matchOnDetail: true },
  );
  if (picked === undefined) {
    return undefined;
  }
  const outcome = await ctx.reloads.reload({ modules: [picked.value.name] });
  announce(ctx, outcome);
  return outcome;
}

async function showHistory(ctx: CommandContext): Promise<void> {
  if (ctx.connection.api === undefined) {
    await connect(ctx);
    return;
  }
  const history = (await ctx.reloads.requireApi().history()).sort((a, b) => b.id - a.id);
  const picked = await vscode.window.showQuickPick(
    history.map((t) => transactionItem(t, ctx.rel)),
    { title: 'Reload Agent: history', placeHolder: history.length === 0 ? 'No reloads yet' : 'Pick a failed reload to open its location' },
  );
  const error = picked?.value.error as { exception?: { file?: string | null; line?: number | null } } | undefined;
  const file = error?.exception?.file ? editorPath(error.exception.file, ctx.settings().pathMappings) : undefined;
  if (file !== undefined) {
    const line = Math.max((error?.exception?.line ?? 1) - 1, 0);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(line, 0, line, 0) });
  } else if (picked !== undefined) {
    ctx.log.channel.show(true);
  }
}

function announce(ctx: CommandContext, outcome: Outcome): void {
  const text = `Reload Agent: ${ctx.reloads.describe(outcome)}`;
  if (outcome.ok) {
    void vscode.window.showInformationMessage(text);
  } else {
    void vscode.window.showErrorMessage(`${text}: ${outcome.error?.exception.message ?? ''}`);
  }
}
