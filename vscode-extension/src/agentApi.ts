/**
 * Typed calls to the agent's `reloadAgent/*` methods over any JSON-RPC
 * channel: the extension's LanguageClient, or a plain vscode-jsonrpc
 * connection in the integration tests.
 *
 *   const api = new AgentApi(channel);
 *   try { await api.reload({ modules: ['app.views'] }); }
 *   catch (e) { if (e instanceof AgentError && e.failure) show(e.failure); }
 */
import {
  ErrorCode,
  METHOD_HISTORY,
  METHOD_LIST_MODULES,
  METHOD_RELOAD,
  METHOD_ROLLBACK,
  NOTIFY_DID_RELOAD,
  NOTIFY_DID_ROLLBACK,
  type ModuleInfo,
  type ReloadFailure,
  type ReloadNotification,
  type ReloadParams,
  type ReloadResult,
  type RollbackParams,
  type RollbackResult,
  type TransactionRecord,
} from './protocol';

export interface Disposable {
  dispose(): void;
}

/** The two things the API needs from a JSON-RPC connection. */
export interface RpcChannel {
  sendRequest(method: string, params: unknown): Promise<unknown>;
  onNotification(method: string, handler: (params: unknown) => void): Disposable;
}

/** A JSON-RPC error answered by the agent. */
export class AgentError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'AgentError';
  }

  /** The failure details when this is a failed reload (-32010). */
  get failure(): ReloadFailure | undefined {
    return this.code === ErrorCode.RELOAD_FAILED && isFailure(this.data) ? this.data : undefined;
  }

  get nothingToRollback(): boolean {
    return this.code === ErrorCode.NOTHING_TO_ROLLBACK;
  }
}

function isFailure(data: unknown): data is ReloadFailure {
  return typeof data === 'object' && data !== null && 'phase' in data && 'exception' in data;
}

/** Turns a vscode-jsonrpc `ResponseError` (anything with a numeric `code`) into an {@link AgentError}. */
export function toAgentError(err: unknown): unknown {
  if (err instanceof AgentError) {
    return err;
  }
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number') {
    const e = err as { code: number; message?: string; data?: unknown };
    return new AgentError(e.code, e.message ?? `agent error ${e.code}`, e.data);
  }
  return err;
}

/** `initializationOptions` for `initialize`: the agent reads the token from here. */
export function initializationOptions(token: string | null | undefined): { token?: string } {
  return token ? { token } : {};
}

export class AgentApi {
  constructor(private readonly channel: RpcChannel) {}

  private async call<T>(method: string, params: unknown): Promise<T> {
    try {
      return (await this.channel.sendRequest(method, params)) as T;
    } catch (err) {
      throw toAgentError(err);
    }
  }

  reload(params: ReloadParams): Promise<ReloadResult> {
    return this.call(METHOD_RELOAD, params);
  }

  rollback(params: RollbackParams = {}): Promise<RollbackResult> {
    return this.call(METHOD_ROLLBACK, params);
  }

  async listModules(params: { pattern?: string; stale?: boolean } = {}): Promise<ModuleInfo[]> {
    return (await this.call<{ modules: ModuleInfo[] }>(METHOD_LIST_MODULES, params)).modules;
  }

  async history(limit?: number): Promise<TransactionRecord[]> {
    return (await this.call<{ transactions: TransactionRecord[] }>(METHOD_HISTORY, limit === undefined ? {} : { limit })).transactions;
  }

  onDidReload(handler: (params: ReloadNotification) => void): Disposable {
    return this.channel.onNotification(NOTIFY_DID_RELOAD, (p) => handler(p as ReloadNotification));
  }

  onDidRollback(handler: (params: ReloadNotification) => void): Disposable {
    return this.channel.onNotification(NOTIFY_DID_ROLLBACK, (p) => handler(p as ReloadNotification));
  }
}
