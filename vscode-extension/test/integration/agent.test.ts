// The extension's client layer (discovery, socket, initialize with token, AgentApi, reload plans, outcome
// formatting) against a real Python agent process over a real socket.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AgentError } from '../../src/agentApi';
import { statusText } from '../../src/format';
import { fromDidReload, fromFailure, fromReloadResult, fromRollbackResult } from '../../src/outcome';
import { ErrorCode, NOTIFY_DID_RELOAD, NOTIFY_DID_ROLLBACK, type ReloadNotification } from '../../src/protocol';
import { planReload } from '../../src/reloadPlan';
import { resolveTarget } from '../../src/target';
import { startAgent, tempDir, type RunningAgent } from '../support/agentProcess';
import { nextNotification, openSession, type Session } from '../support/rpc';
import { viewsSaying, VIEWS_V1 } from '../support/sampleApp';

const BROKEN = VIEWS_V1.replace('return "hello"', 'return "hello" +');
/** 1-based line of the broken `return` in BROKEN. */
const BROKEN_LINE = BROKEN.split('\n').findIndex((l) => l.includes('return')) + 1;

describe('client layer against a running agent', { timeout: 120000 }, () => {
  let agent: RunningAgent;
  let session: Session;
  let viewsPath: string;

  before(async () => {
    agent = await startAgent();
    viewsPath = fs.realpathSync(path.join(agent.dir, 'app', 'views.py'));
    const resolution = resolveTarget({ address: undefined, token: undefined }, { RELOAD_AGENT_RUNTIME_DIR: agent.runtimeDir });
    assert.equal(resolution.kind, 'target', 'discovery should find exactly the one agent');
    session = await openSession(resolution.kind === 'target' ? resolution.target : (undefined as never));
  });

  after(async () => {
    session?.close();
    await agent?.stop();
  });

  test('discovery and initialize: the agent we started answers with its identity', async () => {
    assert.equal(session.identity.pid, agent.info.pid);
    assert.ok(session.identity.argv.some((a) => a.endsWith('main.py')), JSON.stringify(session.identity.argv));
    assert.equal(await agent.ask(), 'hello');
  });

  test('a wrong token is refused with -32001', async () => {
    await assert.rejects(openSession({ address: agent.info.address, token: 'not-the-token' }), (err: unknown) => {
      assert.ok(err instanceof AgentError, String(err));
      assert.equal(err.code, ErrorCode.UNAUTHORIZED);
      return true;
    });
  });

  test('reloading the saved file by module: the app changes, and the status text says so', async () => {
    fs.writeFileSync(viewsPath, viewsSaying('bonjour'));
    const modules = await session.api.listModules();
    const plan = planReload({ path: viewsPath, text: viewsSaying('bonjour'), dirty: false }, modules, []);
    assert.equal(plan.kind, 'reload', JSON.stringify(plan));
    assert.deepEqual(plan.kind === 'reload' && plan.params, { modules: ['app.views'] });
    const result = await session.api.reload(plan.kind === 'reload' ? plan.params : {});
    assert.equal(await agent.ask(), 'bonjour');
    assert.match(statusText(fromReloadResult(result)), /^\$\(check\) app\.views patched \d+(\.\d)? ms$/);
    assert.deepEqual(result.modules[0].patched.functions, ['greet']);
  });

  test('a reload by another client (the CLI) reaches us as didReload', async () => {
    const other = await openSession(agent.info);
    try {
      const notified = nextNotification<ReloadNotification>(session.connection, NOTIFY_DID_RELOAD);
      fs.writeFileSync(viewsPath, viewsSaying('hallo'));
      await other.api.reload({ modules: ['app.views'] });
      const outcome = fromDidReload(await notified);
      assert.equal(outcome.ok, true);
      assert.deepEqual(outcome.modules.map((m) => m.name), ['app.views']);
      assert.equal(await agent.ask(), 'hallo');
    } finally {
      other.close();
    }
  });

  test('a syntax error fails the reload with its line, and the app keeps running the old code', async () => {
    const before = await agent.ask();
    const err = await session.api.reload({ modules: ['app.views'], sources: { 'app.views': BROKEN } }).then(
      () => assert.fail('reload of a syntax error succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AgentError && err.failure, String(err));
    assert.equal(err.failure.phase, 'compile');
    assert.equal(err.failure.exception.type, 'SyntaxError');
    assert.equal(err.failure.exception.line, BROKEN_LINE);
    assert.equal(err.failure.rolledBack, true);
    assert.match(statusText(fromFailure(err.failure)), new RegExp(`^\\$\\(error\\) SyntaxError .*views\\.py:${BROKEN_LINE}$`));
    assert.equal(await agent.ask(), before);
  });

  test('didSave of a broken file publishes a diagnostic on that line; fixing it clears it', async () => {
    const uri = `file://${viewsPath}`;
    fs.writeFileSync(viewsPath, BROKEN);
    let diagnostics = nextNotification<{ uri: string; diagnostics: { range: { start: { line: number } } }[] }>(session.connection, 'textDocument/publishDiagnostics');
    await session.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
    const failed = await diagnostics;
    assert.equal(failed.uri, uri);
    assert.equal(failed.diagnostics[0]?.range.start.line, BROKEN_LINE - 1);
    fs.writeFileSync(viewsPath, viewsSaying('fixed'));
    diagnostics = nextNotification(session.connection, 'textDocument/publishDiagnostics');
    await session.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
    assert.deepEqual((await diagnostics).diagnostics, []);
    assert.equal(await agent.ask(), 'fixed');
  });

  test('rollback of the newest undoable transaction brings the previous behaviour back, and is broadcast', async () => {
    const before = await agent.ask();
    fs.writeFileSync(viewsPath, viewsSaying('ciao'));
    const reloaded = await session.api.reload({ modules: ['app.views'] });
    assert.equal(await agent.ask(), 'ciao');
    const history = await session.api.history();
    const newest = history.filter((t) => t.ok && !t.rolledBack && (t.kind ?? 'reload') === 'reload').sort((a, b) => b.id - a.id)[0];
    assert.equal(newest.id, reloaded.transaction);
    const notified = nextNotification<ReloadNotification>(session.connection, NOTIFY_DID_ROLLBACK);
    const result = await session.api.rollback({ transaction: newest.id });
    assert.equal(result.rolledBack, reloaded.transaction);
    assert.equal(await agent.ask(), before);
    assert.match(statusText(fromRollbackResult(result)), /app\.views rolled back #\d+/);
    assert.equal((await notified).rolledBack, reloaded.transaction);
  });

  test('with a path mapping the editor text is pushed as sources: the agent never reads our copy', async () => {
    const local = tempDir('ra-local-');
    const localViews = path.join(local, 'app', 'views.py');
    fs.mkdirSync(path.dirname(localViews), { recursive: true });
    fs.writeFileSync(localViews, viewsSaying('from the editor'));
    const onDisk = fs.readFileSync(viewsPath, 'utf8');
    const mappings = [{ localRoot: local, remoteRoot: path.dirname(path.dirname(viewsPath)) }];
    const plan = planReload({ path: localViews, text: viewsSaying('from the editor'), dirty: false }, await session.api.listModules(), mappings);
    assert.equal(plan.kind, 'reload', JSON.stringify(plan));
    await session.api.reload(plan.kind === 'reload' ? plan.params : {});
    assert.equal(await agent.ask(), 'from the editor');
    assert.equal(fs.readFileSync(viewsPath, 'utf8'), onDisk, "the agent's file is untouched");
  });

  test('nothing to roll back for an unknown transaction is an AgentError, not a crash', async () => {
    await assert.rejects(session.api.rollback({ transaction: 999999 }), (err: unknown) => err instanceof AgentError && err.code < 0);
  });
});
