// End to end in a real VS Code (code-server + Debian chromium through playwright-core): edit, save, see the
// running app change; break it, see the diagnostic and the app unchanged; roll back from the command palette.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium, type BrowserContext, type Page } from 'playwright-core';

import { pythonExecutable, startAgent, tempDir, waitFor, type RunningAgent } from '../support/agentProcess';
import { startCodeServer, type CodeServer } from '../support/codeServer';
import { viewsSaying, VIEWS_V1 } from '../support/sampleApp';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = process.env.E2E_ARTIFACTS ?? path.resolve(__dirname, '../../../.e2e/artifacts');
const UI_TIMEOUT = 30000;

let agent: RunningAgent;
let server: CodeServer;
let browser: BrowserContext;
let page: Page;

before(async () => {
  const root = tempDir('ra-e2e-');
  agent = await startAgent();
  server = await startCodeServer(root, agent.dir, { ...process.env, RELOAD_AGENT_RUNTIME_DIR: agent.runtimeDir });
  browser = await chromium.launchPersistentContext(path.join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(UI_TIMEOUT);
  await page.goto(server.url);
  await page.locator('.monaco-workbench').waitFor();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
  await agent?.stop();
});

/** Runs `body`; on failure saves a screenshot and prints where it is. */
async function step(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, `${name.replace(/\W+/g, '-')}-${Date.now()}.png`);
    await page?.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    console.error(`e2e step "${name}" failed; screenshot: ${shot}\ncode-server log tail:\n${server?.log().slice(-3000)}\nagent stderr:\n${agent?.stderr()}`);
    throw err;
  }
}

async function replaceEditorText(text: string): Promise<void> {
  const editor = page.locator('.monaco-editor .view-lines').first();
  await editor.click();
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await page.locator('.tab.active.dirty').waitFor();
  await page.keyboard.press('Control+s');
  await page.locator('.tab.active.dirty').waitFor({ state: 'detached' });
}

/** The app's answer is only observable by asking: poll it with a deadline. */
async function appSays(expected: string): Promise<void> {
  let last = '';
  try {
    await waitFor(`the app to answer "${expected}"`, async () => ((last = await agent.ask()) === expected ? true : undefined), UI_TIMEOUT, 50);
  } catch {
    assert.equal(last, expected);
  }
}

test('save reloads, a syntax error shows on its line and changes nothing, rollback restores, reconnect, CLI reloads show', { timeout: 240000 }, async () => {
  await step('connected', async () => {
    await page.locator('.statusbar-item', { hasText: `pid ${agent.info.pid}` }).waitFor();
  });

  await step('open module', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app' }).first().click();
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'views.py' }).dblclick();
    await page.locator('.tab.active', { hasText: 'views.py' }).waitFor();
    await page.locator('.monaco-editor .view-line', { hasText: 'hello' }).waitFor();
  });

  await step('edit and save reloads', async () => {
    assert.equal(await agent.ask(), 'hello');
    await replaceEditorText('"""Views of the sample app."""\n\n\ndef greet():\n    return "saved from vscode"\n');
    await appSays('saved from vscode');
    await page.locator('.statusbar-item', { hasText: /app\.views patched [\d.]+ m?s/ }).waitFor();
  });

  await step('syntax error shows a diagnostic on its line', async () => {
    await replaceEditorText('"""Views of the sample app."""\n\n\ndef greet():\n    return "broken" +\n');
    await page.locator('.statusbar-item', { hasText: /SyntaxError .*views\.py:5/ }).waitFor();
    // The squiggle sits on line 5 (the broken return) ...
    await page.locator('.monaco-editor .squiggly-error').first().waitFor();
    // ... and the Problems view lists it with that position.
    await page.keyboard.press('Control+Shift+m');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'SyntaxError' }).first();
    await problem.waitFor();
    assert.match(await problem.innerText(), /\[Ln 5, Col \d+\]/);
    assert.equal(await agent.ask(), 'saved from vscode', 'a failed reload must leave the app as it was');
  });

  await step('rollback from the command palette', async () => {
    await page.keyboard.press('F1');
    await page.keyboard.insertText('Reload Agent: Rollback');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reload Agent: Rollback' }).first().waitFor();
    await page.keyboard.press('Enter');
    // The quick pick of undoable transactions: newest first.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: /#\d+ reload app\.views/ }).first().waitFor();
    await page.keyboard.press('Enter');
    await appSays('hello');
    await page.locator('.statusbar-item', { hasText: /app\.views rolled back #\d+/ }).waitFor();
  });

  await step('reconnect after the agent restarts', async () => {
    const oldPid = agent.info.pid;
    await agent.stop();
    await page.locator('.statusbar-item', { hasText: 'Reload Agent: disconnected' }).waitFor();
    // The broken text is still on disk (rollback restores the process, not files): fix it before restarting.
    fs.writeFileSync(path.join(agent.dir, 'app', 'views.py'), VIEWS_V1);
    agent = await startAgent(agent);
    assert.notEqual(agent.info.pid, oldPid);
    await page.locator('.statusbar-item', { hasText: `pid ${agent.info.pid}` }).waitFor();
  });

  await step('a reload from the CLI shows in the status bar', async () => {
    fs.writeFileSync(path.join(agent.dir, 'app', 'views.py'), viewsSaying('from the cli'));
    const cli = spawnSync(pythonExecutable(), ['-m', 'reload_agent_client.cli', 'reload', 'app.views'], {
      env: { ...process.env, RELOAD_AGENT_RUNTIME_DIR: agent.runtimeDir, HOME: agent.home },
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(cli.status, 0, `${cli.stdout}${cli.stderr}`);
    assert.equal(await agent.ask(), 'from the cli');
    await page.locator('.statusbar-item', { hasText: /app\.views patched [\d.]+ m?s/ }).waitFor();
  });
});
