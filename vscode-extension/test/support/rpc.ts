/**
 * A plain vscode-jsonrpc connection to an agent, initialised the way the
 * extension's LanguageClient does it (token in `initializationOptions`), so the
 * integration tests exercise the extension's client layer without VS Code.
 */
import type * as net from 'node:net';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

import { openSocket, parseAddress } from '../../src/address';
import { AgentApi, initializationOptions, toAgentError } from '../../src/agentApi';
import type { AgentIdentity } from '../../src/protocol';
import type { Target } from '../../src/target';

export interface Session {
  connection: MessageConnection;
  api: AgentApi;
  identity: AgentIdentity;
  socket: net.Socket;
  close(): void;
}

/** Opens a socket to `target`, sends `initialize` + `initialized`; rejects with an AgentError on a refused token. */
export async function openSession(target: Target): Promise<Session> {
  const socket = await openSocket(parseAddress(target.address), 5000);
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.listen();
  const close = (): void => {
    connection.dispose();
    socket.destroy();
  };
  try {
    const result = (await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: initializationOptions(target.token),
    })) as { reloadAgent: AgentIdentity };
    await connection.sendNotification('initialized', {});
    const api = new AgentApi({
      sendRequest: (method, params) => connection.sendRequest(method, params),
      onNotification: (method, handler) => connection.onNotification(method, handler),
    });
    return { connection, api, identity: result.reloadAgent, socket, close };
  } catch (err) {
    close();
    throw toAgentError(err);
  }
}

/** Resolves with the next notification `method` carries, or rejects after `timeoutMs`. */
export function nextNotification<T>(connection: MessageConnection, method: string, timeoutMs = 10000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${method} within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = connection.onNotification(method, (params: T) => {
      clearTimeout(timer);
      sub.dispose();
      resolve(params);
    });
  });
}
