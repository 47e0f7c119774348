import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { liveAgents, parseConnectionFile, pidAlive, runtimeDir } from '../../src/discovery';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ra-discovery-'));
}

function deadPid(): number {
  // A process that has exited and been reaped: its pid names nobody (until reused, which takes a long time).
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function writeAgent(dir: string, pid: number, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, `agent-${pid}.json`);
  const info = { pid, address: `127.0.0.1:${1000 + (pid % 5000)}`, token: 't', argv: ['app.py'], cwd: '/w', python: 'py', version: '0.1.0', started: '2026-01-01T00:00:00+00:00' };
  fs.writeFileSync(file, JSON.stringify({ ...info, ...extra }), { mode: 0o600 });
  return file;
}

test('runtimeDir: RELOAD_AGENT_RUNTIME_DIR, then XDG_RUNTIME_DIR/reload-agent, then ~/.cache/reload-agent/run', () => {
  assert.equal(runtimeDir({ RELOAD_AGENT_RUNTIME_DIR: '/x', XDG_RUNTIME_DIR: '/run/user/1' }, '/home/u'), '/x');
  assert.equal(runtimeDir({ XDG_RUNTIME_DIR: '/run/user/1' }, '/home/u'), '/run/user/1/reload-agent');
  assert.equal(runtimeDir({ RELOAD_AGENT_RUNTIME_DIR: '' }, '/home/u'), '/home/u/.cache/reload-agent/run');
});

test('pidAlive: this process yes, a reaped child no, nonsense no', () => {
  assert.equal(pidAlive(process.pid), true);
  assert.equal(pidAlive(deadPid()), false);
  assert.equal(pidAlive(0), false);
  assert.equal(pidAlive(-5), false);
});

test('liveAgents keeps live pids, deletes files of dead ones, skips junk', () => {
  const dir = tmpDir();
  const live = writeAgent(dir, process.pid, { argv: ['serve.py', '--port', '0'] });
  const dead = writeAgent(dir, deadPid());
  fs.writeFileSync(path.join(dir, 'agent-999999999.json'), '{not json');
  fs.writeFileSync(path.join(dir, 'notes.json'), JSON.stringify({ pid: process.pid, address: 'x:1' }));
  const agents = liveAgents(dir);
  assert.deepEqual(
    agents.map((a) => [a.pid, a.argv, a.file]),
    [[process.pid, ['serve.py', '--port', '0'], live]],
  );
  assert.equal(fs.existsSync(dead), false, 'dead agent file should be cleaned');
  assert.equal(fs.existsSync(path.join(dir, 'agent-999999999.json')), true, 'unreadable files are left alone');
});

test('liveAgents without clean leaves dead files; sorts by pid; missing dir is empty', () => {
  const dir = tmpDir();
  const dead = writeAgent(dir, deadPid());
  writeAgent(dir, 200);
  writeAgent(dir, 100);
  const agents = liveAgents(dir, { clean: false, alive: (pid) => pid !== Number(path.basename(dead).slice(6, -5)) });
  assert.deepEqual(agents.map((a) => a.pid), [100, 200]);
  assert.equal(fs.existsSync(dead), true);
  assert.deepEqual(liveAgents(path.join(dir, 'missing')), []);
});

test('parseConnectionFile: needs pid and address; token may be null', () => {
  assert.equal(parseConnectionFile('{"pid": 3}', 'f'), undefined);
  assert.equal(parseConnectionFile('[]', 'f'), undefined);
  assert.equal(parseConnectionFile('null', 'f'), undefined);
  const info = parseConnectionFile('{"pid": 3, "address": "unix:/tmp/s", "token": null}', 'f');
  assert.deepEqual(info && [info.pid, info.address, info.token, info.argv], [3, 'unix:/tmp/s', null, []]);
});
