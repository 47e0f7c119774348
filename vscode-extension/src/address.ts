/**
 * Agent addresses (`HOST:PORT` or `unix:PATH`) and opening a socket to one.
 *
 *   const socket = await openSocket(parseAddress('127.0.0.1:8765'), 5000);
 */
import * as net from 'node:net';

export type Endpoint = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses `HOST:PORT`, `[v6]:PORT` or `unix:PATH`; throws with a readable message otherwise. */
export function parseAddress(address: string): Endpoint {
  const text = address.trim();
  if (text.startsWith('unix:')) {
    const p = text.slice('unix:'.length);
    if (p === '') {
      throw new Error(`invalid agent address '${address}': empty socket path`);
    }
    return { kind: 'unix', path: p };
  }
  const colon = text.lastIndexOf(':');
  if (colon <= 0) {
    throw new Error(`invalid agent address '${address}': expected HOST:PORT or unix:PATH`);
  }
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`invalid agent address '${address}': bad port '${portText}'`);
  }
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
  }
  return { kind: 'tcp', host, port };
}

/** The address back as text, as the agent writes it. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'unix') {
    return `unix:${endpoint.path}`;
  }
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/** Connects to `endpoint`; rejects after `timeoutMs` or on the first socket error. */
export function openSocket(endpoint: Endpoint, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      endpoint.kind === 'unix' ? net.createConnection({ path: endpoint.path }) : net.createConnection({ host: endpoint.host, port: endpoint.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out connecting to ${formatEndpoint(endpoint)} after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`cannot connect to ${formatEndpoint(endpoint)}: ${err.message}`));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
