import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readSettings, type ConfigurationLike } from '../../src/settings';

function config(values: Record<string, unknown>): ConfigurationLike {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

test('defaults: discovery, no token, reload on save, no mappings', () => {
  assert.deepEqual(readSettings(config({})), { address: undefined, token: undefined, reloadOnSave: true, pathMappings: [] });
});

test('blank address and token count as unset; values are trimmed', () => {
  const s = readSettings(config({ address: '  ', token: '', reloadOnSave: false }));
  assert.equal(s.address, undefined);
  assert.equal(s.token, undefined);
  assert.equal(s.reloadOnSave, false);
  assert.equal(readSettings(config({ address: ' 127.0.0.1:9 ', token: ' t ' })).address, '127.0.0.1:9');
});

test('pathMappings: ${workspaceFolder} and relative roots expand; trailing slashes go; bad entries are reported', () => {
  const problems: string[] = [];
  const s = readSettings(
    config({
      pathMappings: [
        { localRoot: '${workspaceFolder}/src/', remoteRoot: '/srv/app/' },
        { localRoot: 'lib', remoteRoot: 'C:\\app\\lib\\' },
        { localRoot: '/abs', remoteRoot: '' },
        'nonsense',
      ],
    }),
    ['/home/me/proj'],
    problems,
  );
  assert.deepEqual(s.pathMappings, [
    { localRoot: '/home/me/proj/src', remoteRoot: '/srv/app' },
    { localRoot: '/home/me/proj/lib', remoteRoot: 'C:\\app\\lib' },
  ]);
  assert.equal(problems.length, 2);
});

test('pathMappings needing a workspace folder are dropped without one', () => {
  const problems: string[] = [];
  const s = readSettings(config({ pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot: '/r' }, { localRoot: '/a', remoteRoot: '/r' }] }), [], problems);
  assert.deepEqual(s.pathMappings, [{ localRoot: '/a', remoteRoot: '/r' }]);
  assert.equal(problems.length, 1);
  readSettings(config({ pathMappings: { localRoot: '/a' } }), [], problems);
  assert.equal(problems.length, 2);
});
