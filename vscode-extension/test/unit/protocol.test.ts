// The TypeScript mirror of the wire facts must agree with their one home, the Python client's protocol.py.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import * as protocol from '../../src/protocol';

const PROTOCOL_PY = path.resolve(__dirname, '../../../../client/reload_agent_client/protocol.py');
const source = fs.readFileSync(PROTOCOL_PY, 'utf8');

function pyStrings(prefix: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of source.matchAll(new RegExp(`^(${prefix}\\w*) = "([^"]*)"$`, 'gm'))) {
    found.set(m[1], m[2]);
  }
  return found;
}

function pyTuple(name: string): string[] {
  const m = source.match(new RegExp(`^${name} = \\(([^)]*)\\)`, 'm'));
  assert.ok(m, `${name} not found in protocol.py`);
  return [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]);
}

const ts = protocol as unknown as Record<string, unknown>;

test('every method, notification and command name the extension uses is the one in protocol.py', () => {
  const names = new Map([...pyStrings('METHOD_'), ...pyStrings('NOTIFY_'), ...pyStrings('COMMAND_')]);
  assert.ok(names.size >= 10, `too few names parsed from ${PROTOCOL_PY}`);
  const mirrored = Object.keys(ts).filter((k) => /^(METHOD|NOTIFY|COMMAND)_/.test(k));
  assert.ok(mirrored.length >= 9);
  for (const key of mirrored) {
    assert.equal(ts[key], names.get(key), `${key} differs from protocol.py`);
  }
  // Every reloadAgent/* method and notification of the protocol is mirrored.
  for (const [key, value] of names) {
    if (value.startsWith('reloadAgent')) {
      assert.equal(ts[key], value, `${key} is missing from src/protocol.ts`);
    }
  }
});

test('error codes agree with protocol.ErrorCode', () => {
  const block = source.slice(source.indexOf('class ErrorCode'));
  const codes = new Map<string, number>();
  for (const m of block.matchAll(/^ {4}([A-Z_]+) = (-?\d+)$/gm)) {
    codes.set(m[1], Number(m[2]));
  }
  assert.ok(codes.size >= 9);
  assert.deepEqual(new Map(Object.entries(protocol.ErrorCode)), codes);
});

test('phases, modes and environment variable names agree', () => {
  assert.deepEqual([...protocol.PHASES], pyTuple('PHASES'));
  assert.deepEqual([...protocol.MODES], pyTuple('MODES'));
  const env = pyStrings('ENV_');
  for (const key of ['ENV_ADDRESS', 'ENV_TOKEN', 'ENV_RUNTIME_DIR']) {
    assert.equal(ts[key], env.get(key), key);
  }
});
