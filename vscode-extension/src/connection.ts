/**
 * The connection to one running agent through vscode-languageclient, over a
 * socket we open ourselves (the agent is already running: `ServerOptions` is a
 * function returning the socket as a `StreamInfo`). Owns reconnecting: when
 * the agent goes away, it keeps looking (discovery or the set address) and
 * connects again when one is back.
 */
import type * as net from 'node:net';

import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type DynamicFeature,
  type LanguageClientOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';

import { openSocket, parseAddress } from './address';
import { AgentApi, initializationOptions } from './agentApi';
import { ErrorCode, type AgentIdentity } from './protocol';
import type { ConnectionState } from './format';
import type { Log } from './logging';
import type { Target } from './target';

const CONNECT_TIMEOUT_MS = 5000;
/** How often to look for an agent again after losing one. */
const RECONNECT_INTERVAL_MS = 1500;

/**
 * A LanguageClient without the `workspace/executeCommand` feature: that feature
 * would register the agent's LSP commands (`reloadAgent.reload`,
 * `reloadAgent.rollback`, ...) as VS Code commands, clashing with this
 * extension's own `reloadAgent.rollback`. The extension calls the agent's
 * requests directly instead.
 */
class AgentLanguageClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    if ('registrationType' in feature && feature.registrationType.method === ExecuteCommandRequest.method) {
      return;
    }
    super.registerFeature(feature);
  }
}

export interface ConnectionHooks {
  /** Settings-dependent `didSave` handling; `next` forwards the save to the agent. */
  didSave(document: vscode.TextDocument, next: (d: vscode.TextDocument) => Promise<void>): Promise<void>;
  /** Called when the connection state changes. */
  stateChanged(state: ConnectionState): void;
  /** Called with the API of each new connection, to subscribe to its notifications. */
  connected(api: AgentApi, client: LanguageClient): void;
  /** Finds a target without asking the user; `undefined`: none to connect to now. */
  autoTarget(): Target | undefined;
}

export class AgentConnection implements vscode.Disposable {
  private client: AgentLanguageClient | undefined;
  private apiValue: AgentApi | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<boolean> | undefined;
  private disposed = false;
  /** Bumped by every connect: an attempt that finds it changed was overtaken by a newer one and backs out. */
  private generation = 0;
  /** The last connection error logged, so a retry loop against a dead address logs it once. */
  private lastError: string | undefined;

  constructor(
    private readonly log: Log,
    private readonly hooks: ConnectionHooks,
  ) {}

  get api(): AgentApi | undefined {
    return this.apiValue;
  }

  /** Connects to `target`, replacing any current connection. Resolves to false (and logs) on failure. */
  connect(target: Target): Promise<boolean> {
    this.stopRetrying();
    const attempt = this.replace(target);
    this.connecting = attempt;
    void attempt.finally(() => {
      if (this.connecting === attempt) {
        this.connecting = undefined;
      }
    });
    return attempt;
  }

  private async replace(target: Target): Promise<boolean> {
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation && !this.disposed;
    await this.closeClient();
    this.hooks.stateChanged({ state: 'connecting' });
    let socket: net.Socket;
    try {
      // Opened here, not inside the client: a refused connection is then a quiet retry, not a client error popup.
      socket = await openSocket(parseAddress(target.address), CONNECT_TIMEOUT_MS);
    } catch (err) {
      if (!current()) {
        return false;
      }
      this.logOnce(`cannot connect to the agent at ${target.address}: ${err instanceof Error ? err.message : String(err)}`);
      this.lost(true);
      return false;
    }
    let closedByAgent = false;
    const options: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      outputChannel: this.log.channel,
      initializationOptions: initializationOptions(target.token),
      // The agent is a separate process that outlives us and comes back on its own: never restart it through the
      // client; our own loop reconnects (possibly to a new pid and port).
      errorHandler: {
        error: () => ({ action: ErrorAction.Shutdown, handled: true }),
        closed: () => {
          closedByAgent = true;
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      initializationFailedHandler: () => false,
      middleware: {
        didSave: (document, next) => this.hooks.didSave(document, next),
      },
    };
    if (!current()) {
      socket.destroy();
      return false;
    }
    const client = new AgentLanguageClient('reloadAgent', 'Reload Agent', async () => ({ reader: socket, writer: socket }), options);
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.client === client && closedByAgent) {
        this.log.info(`connection to ${target.address} closed`);
        this.lost(true);
      }
    });
    try {
      await client.start();
    } catch (err) {
      if (!current()) {
        return false;
      }
      const code = (err as { code?: unknown }).code;
      this.logOnce(`the agent at ${target.address} refused the connection: ${err instanceof Error ? err.message : String(err)}`);
      if (this.client === client) {
        this.client = undefined;
      }
      await client.dispose().catch(() => undefined);
      socket.destroy();
      // A wrong token stays wrong: wait for the user (Connect, or a settings change) instead of retrying.
      this.lost(code !== ErrorCode.UNAUTHORIZED);
      return false;
    }
    if (!current()) {
      return false;
    }
    const identity = (client.initializeResult as { reloadAgent?: AgentIdentity } | undefined)?.reloadAgent;
    this.apiValue = new AgentApi({
      sendRequest: (method, params) => client.sendRequest(method, params),
      onNotification: (method, handler) => client.onNotification(method, handler),
    });
    this.lastError = undefined;
    const pid = identity?.pid ?? target.agent?.pid ?? 0;
    this.log.info(`connected to agent pid ${pid} at ${target.address}${identity ? ` (${identity.argv.join(' ')})` : ''}`);
    this.hooks.connected(this.apiValue, client);
    this.hooks.stateChanged({ state: 'connected', pid, address: target.address });
    return true;
  }

  private logOnce(message: string): void {
    if (message !== this.lastError) {
      this.log.error(message);
      this.lastError = message;
    }
  }

  /** Connects to an agent found without asking, if there is one; otherwise keeps retrying in the background. */
  async connectAutomatically(): Promise<void> {
    if (this.client !== undefined || this.connecting !== undefined) {
      return;
    }
    const target = this.hooks.autoTarget();
    if (target === undefined) {
      this.lost(true);
      return;
    }
    await this.connect(target);
  }

  /** Forgets the connection; with `retry`, looks for an agent again shortly. */
  private lost(retry: boolean): void {
    this.apiValue = undefined;
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      void client.dispose().catch(() => undefined);
    }
    if (this.disposed) {
      return;
    }
    this.hooks.stateChanged({ state: 'disconnected' });
    if (retry && this.retryTimer === undefined) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.connectAutomatically();
      }, RECONNECT_INTERVAL_MS);
    }
  }

  private stopRetrying(): void {
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private async closeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.apiValue = undefined;
    if (client !== undefined && client.state !== State.Stopped) {
      await client.stop(2000).catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.stopRetrying();
    await this.closeClient();
  }
}
