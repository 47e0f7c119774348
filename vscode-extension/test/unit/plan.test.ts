import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import type { ModuleInfo } from '../../src/protocol';
import { modulesForFile, planReload } from '../../src/reloadPlan';
import { automaticTarget, resolveTarget } from '../../src/target';

const modules: ModuleInfo[] = [
  { name: 'app.views', file: '/srv/app/app/views.py', stale: false, version: 0, reloadable: true },
  { name: 'app', file: '/srv/app/app/__init__.py', stale: false, version: 0, reloadable: true },
  { name: 'sys', file: null, stale: false, version: 0, reloadable: false },
];
const mapping = [{ localRoot: '/home/me/proj', remoteRoot: '/srv/app' }];

test('modulesForFile finds the modules loaded from a file', () => {
  assert.deepEqual(modulesForFile('/srv/app/app/views.py', modules), ['app.views']);
  assert.deepEqual(modulesForFile('/srv/app/other.py', modules), []);
});

test('local agent, saved buffer: reload by module name, the agent reads the file', () => {
  const plan = planReload({ path: '/srv/app/app/views.py', text: 'x', dirty: false }, modules, []);
  assert.deepEqual(plan, { kind: 'reload', params: { modules: ['app.views'] }, remotePath: '/srv/app/app/views.py' });
});

test('unsaved buffer or a path mapping: the text goes along as sources', () => {
  const dirty = planReload({ path: '/srv/app/app/views.py', text: 'new', dirty: true }, modules, []);
  assert.deepEqual(dirty.kind === 'reload' && dirty.params.sources, { 'app.views': 'new' });
  const mapped = planReload({ path: '/home/me/proj/app/views.py', text: 'new', dirty: false }, modules, mapping);
  assert.deepEqual(mapped, { kind: 'reload', params: { modules: ['app.views'], sources: { 'app.views': 'new' } }, remotePath: '/srv/app/app/views.py' });
});

test('files outside the mappings or not loaded are skipped with a reason', () => {
  const outside = planReload({ path: '/tmp/x.py', text: '', dirty: false }, modules, mapping);
  assert.equal(outside.kind, 'skip');
  assert.match(outside.kind === 'skip' ? outside.reason : '', /pathMappings/);
  const notLoaded = planReload({ path: '/home/me/proj/new.py', text: '', dirty: false }, modules, mapping);
  assert.match(notLoaded.kind === 'skip' ? notLoaded.reason : '', /not loaded \/srv\/app\/new\.py/);
});

test('resolveTarget: setting, then RELOAD_AGENT_ADDRESS, then connection files (none / one / several)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-target-'));
  const env = { RELOAD_AGENT_RUNTIME_DIR: dir };
  assert.deepEqual(resolveTarget({ address: 'h:1', token: 't' }, { ...env, RELOAD_AGENT_ADDRESS: 'e:2' }), { kind: 'target', target: { address: 'h:1', token: 't' } });
  assert.deepEqual(resolveTarget({ address: undefined, token: undefined }, { ...env, RELOAD_AGENT_ADDRESS: 'e:2', RELOAD_AGENT_TOKEN: 'et' }), {
    kind: 'target',
    target: { address: 'e:2', token: 'et' },
  });
  assert.deepEqual(resolveTarget({ address: undefined, token: undefined }, env), { kind: 'none', dir });
  const write = (pid: number): void => fs.writeFileSync(path.join(dir, `agent-${pid}.json`), JSON.stringify({ pid, address: `127.0.0.1:${pid}`, token: `tok${pid}` }));
  write(process.pid);
  const one = resolveTarget({ address: undefined, token: undefined }, env);
  assert.equal(one.kind === 'target' && one.target.token, `tok${process.pid}`);
  write(process.ppid);
  const several = resolveTarget({ address: undefined, token: undefined }, env);
  assert.deepEqual(several.kind === 'choose' && several.agents.map((a) => a.pid).sort(), [process.pid, process.ppid].sort());
});

test('automaticTarget: among several agents only the one started inside the workspace is chosen unasked', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-auto-'));
  const env = { RELOAD_AGENT_RUNTIME_DIR: dir };
  const none = { address: undefined, token: undefined };
  assert.equal(automaticTarget(none, ['/w/proj'], env), undefined);
  const write = (pid: number, cwd: string): void => fs.writeFileSync(path.join(dir, `agent-${pid}.json`), JSON.stringify({ pid, address: `127.0.0.1:${pid}`, token: null, cwd }));
  write(process.pid, '/w/proj/service');
  write(process.ppid, '/w/project-two');
  assert.equal(automaticTarget(none, ['/w/proj'], env)?.agent?.pid, process.pid);
  assert.equal(automaticTarget(none, ['/w/elsewhere'], env), undefined);
  assert.equal(automaticTarget(none, ['/w'], env), undefined, 'both inside: the user chooses');
  assert.equal(automaticTarget({ address: 'h:1', token: undefined }, [], env)?.address, 'h:1');
});
