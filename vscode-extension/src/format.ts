/**
 * Every user-visible text the extension builds from agent data: status bar,
 * output channel lines, quick pick items, messages. Pure, so unit-tested.
 *
 *   statusText(fromReloadResult(r), rel)  // "$(check) app.views patched 2.1 ms"
 */
import type { AgentInfo } from './discovery';
import type { ModuleInfo, TransactionRecord } from './protocol';
import type { Outcome } from './outcome';

/** Shortens absolute paths for display (relative to a workspace folder when under one). */
export type Relativize = (file: string) => string;

export const identity: Relativize = (f) => f;

/** The launcher command shown when no agent runs. */
export const LAUNCH_COMMAND = 'python -m reload_agent your_app.py';

/** `2.1 ms`, `12 ms`, `1.25 s`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) {
    return '';
  }
  if (ms >= 1000) {
    return `${(ms / 1000).toFixed(2)} s`;
  }
  if (ms >= 10) {
    return `${Math.round(ms)} ms`;
  }
  return `${ms.toFixed(1)} ms`;
}

/** `app.views`, `app.views +2`. */
export function moduleNames(names: readonly string[]): string {
  if (names.length === 0) {
    return 'no modules';
  }
  return names.length === 1 ? names[0] : `${names[0]} +${names.length - 1}`;
}

/** `SyntaxError app/views.py:12` (the failure's place, when known). */
export function failureText(outcome: Outcome, rel: Relativize = identity): string {
  const e = outcome.error;
  if (e === undefined) {
    return 'reload failed';
  }
  const where = e.exception.file ? `${rel(e.exception.file)}${e.exception.line ? `:${e.exception.line}` : ''}` : e.module ?? '';
  return `${e.exception.type} ${where}`.trim();
}

/** One line describing an outcome, without icons. */
export function outcomeSummary(outcome: Outcome, rel: Relativize = identity): string {
  const names = outcome.modules.map((m) => m.name);
  const time = formatDuration(outcome.durationMs);
  if (!outcome.ok) {
    return failureText(outcome, rel);
  }
  if (outcome.kind === 'rollback') {
    const undone = outcome.rolledBack !== undefined ? ` #${outcome.rolledBack}` : '';
    return `${moduleNames(names)} rolled back${undone}${time ? ` ${time}` : ''}`;
  }
  const verb = outcome.modules.length > 0 && outcome.modules.every((m) => m.mode === 'full') ? 'reloaded' : 'patched';
  return `${moduleNames(names)} ${verb}${time ? ` ${time}` : ''}`;
}

/** The status bar text after an outcome. */
export function statusText(outcome: Outcome, rel: Relativize = identity): string {
  const icon = !outcome.ok ? '$(error)' : outcome.kind === 'rollback' ? '$(history)' : '$(check)';
  return `${icon} ${outcomeSummary(outcome, rel)}`;
}

export type ConnectionState = { state: 'disconnected' } | { state: 'connecting' } | { state: 'connected'; pid: number; address: string };

/** The status bar text for a connection state (before any reload). */
export function connectionText(c: ConnectionState): string {
  switch (c.state) {
    case 'disconnected':
      return '$(debug-disconnect) Reload Agent: disconnected';
    case 'connecting':
      return '$(sync~spin) Reload Agent: connecting';
    case 'connected':
      return `$(plug) Reload Agent: pid ${c.pid}`;
  }
}

/** A line for the output channel, with the wall clock time and every detail worth keeping. */
export function logLine(outcome: Outcome, now: Date, rel: Relativize = identity): string {
  const stamp = now.toISOString().slice(11, 23);
  const tx = outcome.transaction !== null ? `#${outcome.transaction} ` : '';
  if (!outcome.ok && outcome.error) {
    const e = outcome.error;
    return `[${stamp}] ${tx}reload FAILED (${e.phase}${e.module ? `, ${e.module}` : ''}): ${failureText(outcome, rel)}: ${e.exception.message}; rolled back: ${e.rolledBack}`;
  }
  const details = outcome.modules
    .map((m) => {
      const parts = [m.name];
      if (m.mode) {
        parts.push(m.mode);
      }
      if (m.version !== undefined) {
        parts.push(`v${m.version}`);
      }
      const changed = [...(m.functions ?? []), ...(m.classes ?? [])];
      if (changed.length > 0) {
        parts.push(`[${changed.join(', ')}]`);
      }
      return parts.join(' ');
    })
    .join('; ');
  const time = formatDuration(outcome.durationMs);
  return `[${stamp}] ${tx}${outcome.kind}${outcome.rolledBack !== undefined ? ` of #${outcome.rolledBack}` : ''} ok${time ? ` in ${time}` : ''}: ${details || 'no modules'}`;
}

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

/** Quick pick items for the agents found by discovery. */
export function agentItems(agents: readonly AgentInfo[]): PickItem<AgentInfo>[] {
  return agents.map((a) => ({
    label: `pid ${a.pid}`,
    description: a.argv.join(' '),
    detail: `${a.cwd}  ${a.address}`,
    value: a,
  }));
}

/** Quick pick items for modules, stale ones first and marked. */
export function moduleItems(modules: readonly ModuleInfo[], rel: Relativize = identity): PickItem<ModuleInfo>[] {
  const sorted = [...modules].sort((a, b) => Number(b.stale) - Number(a.stale) || a.name.localeCompare(b.name));
  return sorted.map((m) => ({
    label: `${m.stale ? '$(warning) ' : ''}${m.name}`,
    description: [m.stale ? 'stale' : '', `v${m.version}`, m.reloadable ? '' : 'not reloadable'].filter(Boolean).join(' · '),
    detail: m.file ? rel(m.file) : undefined,
    value: m,
  }));
}

/** A history entry as a quick pick item, newest first is the caller's order. */
export function transactionItem(t: TransactionRecord, rel: Relativize = identity): PickItem<TransactionRecord> {
  const icon = !t.ok ? '$(error)' : t.kind === 'rollback' ? '$(history)' : t.rolledBack ? '$(discard)' : '$(check)';
  const what = t.kind === 'rollback' ? 'rollback' : 'reload';
  const err = t.error as { exception?: { type?: string; file?: string | null; line?: number | null } } | undefined;
  let detail: string | undefined;
  if (!t.ok && err?.exception) {
    const where = err.exception.file ? ` ${rel(err.exception.file)}${err.exception.line ? `:${err.exception.line}` : ''}` : '';
    detail = `${err.exception.type ?? 'Error'}${where}`;
  }
  return {
    label: `${icon} #${t.id} ${what} ${moduleNames(t.modules)}`,
    description: [formatDuration(t.durationMs), t.rolledBack ? 'rolled back' : '', localTime(t.time)].filter(Boolean).join(' · '),
    detail,
    value: t,
  };
}

/** Transactions that can still be undone, newest first. */
export function undoable(history: readonly TransactionRecord[]): TransactionRecord[] {
  return history.filter((t) => t.ok && !t.rolledBack && (t.kind ?? 'reload') === 'reload').sort((a, b) => b.id - a.id);
}

function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}

/** The message shown when no agent is running. */
export function noAgentMessage(dir: string): string {
  return `No reload agent is running (looked in ${dir}). Start your program under the agent: ${LAUNCH_COMMAND}`;
}
