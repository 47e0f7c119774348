import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  agentItems,
  connectionText,
  formatDuration,
  logLine,
  moduleItems,
  moduleNames,
  noAgentMessage,
  statusText,
  transactionItem,
  undoable,
} from '../../src/format';
import { fromDidReload, fromDidRollback, fromFailure, fromReloadResult, fromRollbackResult } from '../../src/outcome';
import type { ReloadFailure, TransactionRecord } from '../../src/protocol';

const rel = (f: string): string => f.replace('/work/proj/', '');

const failure: ReloadFailure = {
  transaction: 7,
  phase: 'compile',
  module: 'app.views',
  exception: { type: 'SyntaxError', message: 'invalid syntax', file: '/work/proj/app/views.py', line: 12, column: 4, traceback: [] },
  rolledBack: true,
};

function result(mode: 'patch' | 'full', names = ['app.views'], durationMs = 2.134) {
  return {
    transaction: 3,
    durationMs,
    modules: names.map((name) => ({ name, mode, version: 1, patched: { functions: ['index'], classes: [] }, replaced: [] })),
  };
}

test('formatDuration picks a readable precision', () => {
  assert.equal(formatDuration(2.134), '2.1 ms');
  assert.equal(formatDuration(0.04), '0.0 ms');
  assert.equal(formatDuration(12.6), '13 ms');
  assert.equal(formatDuration(1250), '1.25 s');
  assert.equal(formatDuration(undefined), '');
});

test('moduleNames shortens long lists', () => {
  assert.equal(moduleNames([]), 'no modules');
  assert.equal(moduleNames(['a']), 'a');
  assert.equal(moduleNames(['a', 'b', 'c']), 'a +2');
});

test('status bar: "app.views patched 2.1 ms", full reloads, failures with file:line, rollbacks', () => {
  assert.equal(statusText(fromReloadResult(result('patch'))), '$(check) app.views patched 2.1 ms');
  assert.equal(statusText(fromReloadResult(result('full', ['a', 'b']))), '$(check) a +1 reloaded 2.1 ms');
  assert.equal(statusText(fromFailure(failure), rel), '$(error) SyntaxError app/views.py:12');
  assert.equal(
    statusText(fromRollbackResult({ transaction: 4, rolledBack: 3, modules: [{ name: 'app.views', version: 0 }], durationMs: 0.5 })),
    '$(history) app.views rolled back #3 0.5 ms',
  );
});

test('notifications become the same outcomes as results', () => {
  const ok = fromDidReload({ transaction: 3, ok: true, modules: result('patch').modules, durationMs: 2.134 });
  assert.equal(statusText(ok), statusText(fromReloadResult(result('patch'))));
  const failed = fromDidReload({ transaction: 7, ok: false, modules: [], error: failure, durationMs: 1 });
  assert.equal(statusText(failed, rel), '$(error) SyntaxError app/views.py:12');
  assert.equal(failed.transaction, 7);
  const rolled = fromDidRollback({ transaction: 8, ok: true, rolledBack: 3, modules: [{ name: 'app.views', version: 0 }], durationMs: 0.5 });
  assert.equal(statusText(rolled), '$(history) app.views rolled back #3 0.5 ms');
});

test('connection states', () => {
  assert.match(connectionText({ state: 'disconnected' }), /disconnected/);
  assert.match(connectionText({ state: 'connected', pid: 42, address: 'x:1' }), /pid 42/);
});

test('log lines carry transaction, modules, mode, version, what changed and the time taken', () => {
  const at = new Date('2026-11-25T10:00:01.250Z');
  assert.equal(logLine(fromReloadResult(result('patch')), at), '[10:00:01.250] #3 reload ok in 2.1 ms: app.views patch v1 [index]');
  assert.equal(
    logLine(fromFailure(failure), at, rel),
    '[10:00:01.250] #7 reload FAILED (compile, app.views): SyntaxError app/views.py:12: invalid syntax; rolled back: true',
  );
});

test('quick pick items: agents, modules (stale first, marked), transactions', () => {
  const agents = agentItems([{ pid: 5, address: '127.0.0.1:1', token: null, argv: ['app.py', '-v'], cwd: '/w', python: '', version: '', started: '', file: '' }]);
  assert.deepEqual([agents[0].label, agents[0].description], ['pid 5', 'app.py -v']);
  const mods = moduleItems(
    [
      { name: 'b', file: '/work/proj/b.py', stale: false, version: 0, reloadable: true },
      { name: 'a', file: '/work/proj/a.py', stale: true, version: 2, reloadable: true },
    ],
    rel,
  );
  assert.deepEqual(mods.map((m) => [m.label, m.description, m.detail]), [
    ['$(warning) a', 'stale · v2', 'a.py'],
    ['b', 'v0', 'b.py'],
  ]);
  const t: TransactionRecord = { id: 7, time: '2026-11-25T10:00:00Z', kind: 'reload', modules: ['app.views'], ok: false, durationMs: 1, rolledBack: false, error: failure };
  const item = transactionItem(t, rel);
  assert.match(item.label, /^\$\(error\) #7 reload app\.views$/);
  assert.equal(item.detail, 'SyntaxError app/views.py:12');
});

test('undoable: successful reloads not yet rolled back, newest first', () => {
  const base = { time: '', modules: ['m'], durationMs: 1, kind: 'reload' as const };
  const history: TransactionRecord[] = [
    { ...base, id: 1, ok: true, rolledBack: true },
    { ...base, id: 2, ok: true, rolledBack: false },
    { ...base, id: 3, ok: false, rolledBack: false },
    { ...base, id: 4, ok: true, rolledBack: false, kind: 'rollback' },
    { ...base, id: 5, ok: true, rolledBack: false },
  ];
  assert.deepEqual(undoable(history).map((t) => t.id), [5, 2]);
});

test('the no-agent message names the launcher and where we looked', () => {
  const text = noAgentMessage('/run/x');
  assert.match(text, /python -m reload_agent/);
  assert.match(text, /\/run\/x/);
});
