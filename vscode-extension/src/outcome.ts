/**
 * One shape for "what just happened in the agent", whether it comes from our
 * own request's result or error, or from a `didReload`/`didRollback`
 * notification caused by any client (the CLI included).
 *
 *   const o = fromDidReload(params);   // then statusText(o), logLine(o)
 */
import type { ReloadFailure, ReloadNotification, ReloadResult, RollbackResult } from './protocol';

export interface ModuleSummary {
  name: string;
  mode?: 'patch' | 'full';
  version?: number;
  functions?: string[];
  classes?: string[];
}

export interface Outcome {
  kind: 'reload' | 'rollback';
  ok: boolean;
  transaction: number | null;
  modules: ModuleSummary[];
  durationMs?: number;
  /** Rollbacks: the transaction that was undone. */
  rolledBack?: number;
  error?: ReloadFailure;
}

export function fromReloadResult(result: ReloadResult): Outcome {
  return { kind: 'reload', ok: true, transaction: result.transaction, modules: result.modules.map(summarise), durationMs: result.durationMs };
}

export function fromRollbackResult(result: RollbackResult): Outcome {
  return {
    kind: 'rollback',
    ok: true,
    transaction: result.transaction,
    modules: result.modules.map(summarise),
    durationMs: result.durationMs,
    rolledBack: result.rolledBack,
  };
}

export function fromFailure(failure: ReloadFailure): Outcome {
  return {
    kind: 'reload',
    ok: false,
    transaction: failure.transaction,
    modules: failure.module ? [{ name: failure.module }] : [],
    error: failure,
  };
}

export function fromDidReload(params: ReloadNotification): Outcome {
  if (!params.ok && params.error) {
    return { ...fromFailure(params.error), transaction: params.transaction ?? params.error.transaction };
  }
  return {
    kind: 'reload',
    ok: params.ok,
    transaction: params.transaction,
    modules: (params.modules ?? []).map(summarise),
    durationMs: params.durationMs,
  };
}

export function fromDidRollback(params: ReloadNotification): Outcome {
  return {
    kind: 'rollback',
    ok: true,
    transaction: params.transaction,
    modules: (params.modules ?? []).map(summarise),
    durationMs: params.durationMs,
    rolledBack: params.rolledBack,
  };
}

function summarise(m: ReloadNotification['modules'][number]): ModuleSummary {
  if (typeof m === 'string') {
    return { name: m };
  }
  const summary: ModuleSummary = { name: m.name };
  if ('mode' in m) {
    summary.mode = m.mode;
    summary.functions = m.patched?.functions ?? [];
    summary.classes = m.patched?.classes ?? [];
  }
  if (typeof m.version === 'number') {
    summary.version = m.version;
  }
  return summary;
}
