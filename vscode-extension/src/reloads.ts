/**
 * Everything that happens around a reload in the editor: asking for one (a
 * document, a module, a rollback), and reporting each outcome once, whoever
 * caused it (our requests, saves, the CLI): status bar, output channel,
 * diagnostics.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

import { AgentError, type AgentApi } from './agentApi';
import type { ReloadDiagnostics } from './diagnostics';
import { logLine, outcomeSummary, type Relativize } from './format';
import type { Log } from './logging';
import { fromDidReload, fromDidRollback, fromFailure, fromReloadResult, fromRollbackResult, type Outcome } from './outcome';
import { editorPath } from './pathMapping';
import type { ReloadParams } from './protocol';
import { planReload } from './reloadPlan';
import type { Settings } from './settings';
import type { StatusBar } from './statusBar';

/** How many reported transactions to remember for de-duplication (result and notification both arrive). */
const SEEN_LIMIT = 200;

export class Reloads {
  private api: AgentApi | undefined;
  private client: LanguageClient | undefined;
  private readonly seen = new Set<string>();
  private subscriptions: { dispose(): void }[] = [];

  constructor(
    private readonly log: Log,
    private readonly status: StatusBar,
    private readonly diagnostics: ReloadDiagnostics,
    private readonly settings: () => Settings,
    private readonly rel: Relativize,
  ) {}

  /** Starts listening to a new connection's notifications. */
  attach(api: AgentApi, client: LanguageClient): void {
    this.detach();
    // Transaction ids are per agent process: a restarted agent counts from 1 again.
    this.seen.clear();
    this.api = api;
    this.client = client;
    this.subscriptions = [
      api.onDidReload((p) => void this.report(fromDidReload(p))),
      api.onDidRollback((p) => void this.report(fromDidRollback(p))),
    ];
  }

  detach(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.subscriptions = [];
    this.api = undefined;
    this.client = undefined;
  }

  /** The connected agent's API, or a thrown error the command turns into a message. */
  requireApi(): AgentApi {
    if (this.api === undefined) {
      throw new Error('not connected to a reload agent (run "Reload Agent: Connect")');
    }
    return this.api;
  }

  /**
   * A save of a Python file (the language client's `didSave` middleware):
   * nothing with `reloadOnSave` off; without path mappings the save goes to the
   * agent, which reads the file and publishes diagnostics itself; with them the
   * agent cannot read our disk, so the buffer is pushed as the module's source.
   */
  async onSave(document: vscode.TextDocument, forward: (d: vscode.TextDocument) => Promise<void>): Promise<void> {
    const settings = this.settings();
    if (!settings.reloadOnSave) {
      return;
    }
    if (settings.pathMappings.length === 0) {
      return forward(document);
    }
    try {
      await this.reloadDocument(document);
    } catch (err) {
      this.log.error(`reload of ${document.uri.fsPath} failed`, err);
    }
  }

  /** Reloads the module(s) loaded from `document`, pushing its text when the agent cannot read it. */
  async reloadDocument(document: vscode.TextDocument): Promise<Outcome | undefined> {
    const api = this.requireApi();
    const settings = this.settings();
    const plan = planReload({ path: document.uri.fsPath, text: document.getText(), dirty: document.isDirty }, await api.listModules(), settings.pathMappings);
    if (plan.kind === 'skip') {
      this.log.info(`not reloading: ${plan.reason}`);
      return undefined;
    }
    return this.reload(plan.params);
  }

  /** Sends one reload request and reports its outcome (also when it failed). */
  async reload(params: ReloadParams): Promise<Outcome> {
    const api = this.requireApi();
    try {
      return await this.report(fromReloadResult(await api.reload(params)));
    } catch (err) {
      if (err instanceof AgentError && err.failure) {
        const outcome = await this.report(fromFailure(err.failure));
        this.diagnostics.show(err.failure, this.settings().pathMappings);
        return outcome;
      }
      throw err;
    }
  }

  async rollback(transaction?: number): Promise<Outcome> {
    const api = this.requireApi();
    return this.report(fromRollbackResult(await api.rollback(transaction === undefined ? {} : { transaction })));
  }

  /** Status bar, log line and diagnostics for one outcome, once per transaction. */
  private async report(outcome: Outcome): Promise<Outcome> {
    const key = `${outcome.kind}:${outcome.transaction}`;
    if (outcome.transaction !== null && this.seen.has(key)) {
      return outcome;
    }
    if (outcome.transaction !== null) {
      this.seen.add(key);
      if (this.seen.size > SEEN_LIMIT) {
        this.seen.delete(this.seen.values().next().value as string);
      }
    }
    this.status.showOutcome(outcome);
    this.log.raw(logLine(outcome, new Date(), this.rel));
    if (outcome.ok) {
      await this.clearDiagnostics(outcome);
    }
    return outcome;
  }

  private async clearDiagnostics(outcome: Outcome): Promise<void> {
    const clientCollection = this.client?.diagnostics;
    if (this.api === undefined || !this.diagnostics.any(clientCollection)) {
      return;
    }
    const names = new Set(outcome.modules.map((m) => m.name));
    const mappings = this.settings().pathMappings;
    try {
      const files = (await this.api.listModules())
        .filter((m) => names.has(m.name) && m.file !== null)
        .map((m) => editorPath(m.file as string, mappings))
        .filter((f): f is string => f !== undefined);
      this.diagnostics.clear(files, clientCollection);
    } catch (err) {
      this.log.error('could not clear diagnostics', err);
    }
  }

  /** A short message for a command's result notification. */
  describe(outcome: Outcome): string {
    return outcomeSummary(outcome, this.rel);
  }

  dispose(): void {
    this.detach();
  }
}
