import assert from 'node:assert/strict';
import { test } from 'node:test';

import { agentPath, editorPath, toLocal, toRemote } from '../../src/pathMapping';

const mappings = [
  { localRoot: '/home/me/proj', remoteRoot: '/srv/app' },
  { localRoot: '/home/me/proj/vendored', remoteRoot: '/opt/vendored' },
  { localRoot: '/home/me/win', remoteRoot: 'C:\\app' },
];

test('toRemote: longest root wins, separators follow the other side', () => {
  assert.equal(toRemote('/home/me/proj/app/views.py', mappings), '/srv/app/app/views.py');
  assert.equal(toRemote('/home/me/proj/vendored/x.py', mappings), '/opt/vendored/x.py');
  assert.equal(toRemote('/home/me/win/pkg/m.py', mappings), 'C:\\app\\pkg\\m.py');
  assert.equal(toRemote('/home/me/proj', mappings), '/srv/app');
});

test('toRemote: a sibling folder sharing a prefix is not under the root', () => {
  assert.equal(toRemote('/home/me/project2/a.py', mappings), undefined);
  assert.equal(toRemote('/elsewhere/a.py', mappings), undefined);
});

test('toLocal inverts toRemote', () => {
  for (const local of ['/home/me/proj/app/views.py', '/home/me/proj/vendored/x.py', '/home/me/win/pkg/m.py']) {
    const remote = toRemote(local, mappings);
    assert.ok(remote);
    assert.equal(toLocal(remote, mappings), local);
  }
});

test('without mappings the paths are shared; with them unmapped paths have no counterpart', () => {
  assert.equal(agentPath('/a/b.py', []), '/a/b.py');
  assert.equal(editorPath('/a/b.py', []), '/a/b.py');
  assert.equal(agentPath('/a/b.py', mappings), undefined);
  assert.equal(editorPath('/srv/app/b.py', mappings), '/home/me/proj/b.py');
});

test('a root of / maps everything', () => {
  assert.equal(toRemote('/x/y.py', [{ localRoot: '/', remoteRoot: '/mnt/host' }]), '/mnt/host/x/y.py');
});
