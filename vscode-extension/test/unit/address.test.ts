import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';

import { formatEndpoint, openSocket, parseAddress } from '../../src/address';

test('parseAddress: TCP, IPv6, unix sockets; errors name the problem', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8765'), { kind: 'tcp', host: '127.0.0.1', port: 8765 });
  assert.deepEqual(parseAddress('[::1]:9'), { kind: 'tcp', host: '::1', port: 9 });
  assert.deepEqual(parseAddress('unix:/tmp/a b.sock'), { kind: 'unix', path: '/tmp/a b.sock' });
  assert.throws(() => parseAddress('localhost'), /HOST:PORT/);
  assert.throws(() => parseAddress('h:0'), /bad port/);
  assert.throws(() => parseAddress('h:99999'), /bad port/);
  assert.throws(() => parseAddress('h:12x'), /bad port/);
  assert.throws(() => parseAddress('unix:'), /empty/);
});

test('formatEndpoint round-trips', () => {
  for (const a of ['127.0.0.1:1', '[::1]:2', 'unix:/x']) {
    assert.equal(formatEndpoint(parseAddress(a)), a);
  }
});

test('openSocket connects to a listening server and fails fast on a closed port', async () => {
  const server = net.createServer((s) => s.end('hi'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const socket = await openSocket({ kind: 'tcp', host: '127.0.0.1', port }, 2000);
    const data = await new Promise<string>((resolve) => socket.once('data', (d) => resolve(String(d))));
    assert.equal(data, 'hi');
    socket.destroy();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  await assert.rejects(openSocket({ kind: 'tcp', host: '127.0.0.1', port }, 2000), /cannot connect to 127\.0\.0\.1/);
  await assert.rejects(openSocket({ kind: 'unix', path: '/nonexistent/sock' }, 2000), /cannot connect to unix:/);
});
