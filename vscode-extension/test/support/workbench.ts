/**
 * Driving VS Code's UI (code-server in headless Debian chromium) for the
 * end-to-end tests: start it on a workspace, open files, type, save, run
 * palette commands, and keep a screenshot when a step fails.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { chromium, type BrowserContext, type Page } from 'playwright-core';

import { tempDir, waitFor, type RunningAgent } from './agentProcess';
import { EXTENSION_ROOT, startCodeServer, type CodeServer } from './codeServer';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = process.env.E2E_ARTIFACTS ?? path.join(EXTENSION_ROOT, '.e2e', 'artifacts');
export const UI_TIMEOUT = 30000;

export class Workbench {
  private constructor(
    readonly page: Page,
    private readonly browser: BrowserContext,
    private readonly server: CodeServer,
    private readonly agent: () => RunningAgent | undefined,
  ) {}

  /** code-server on `workspace` with the VSIX installed, its agent found through `agent().runtimeDir`. */
  static async open(workspace: string, agent: () => RunningAgent | undefined): Promise<Workbench> {
    const root = tempDir('ra-e2e-');
    const runtimeDir = agent()?.runtimeDir;
    const server = await startCodeServer(root, workspace, { ...process.env, RELOAD_AGENT_RUNTIME_DIR: runtimeDir });
    let browser: BrowserContext | undefined;
    try {
      browser = await chromium.launchPersistentContext(path.join(root, 'chromium-profile'), {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1400, height: 900 },
        permissions: ['clipboard-read', 'clipboard-write'],
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = browser.pages()[0] ?? (await browser.newPage());
      page.setDefaultTimeout(UI_TIMEOUT);
      await page.goto(server.url);
      await page.locator('.monaco-workbench').waitFor();
      return new Workbench(page, browser, server, agent);
    } catch (err) {
      await browser?.close().catch(() => undefined);
      await server.stop();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.server.stop();
  }

  /** Runs `body`; on failure saves a screenshot, prints its path and the logs, and rethrows. */
  async step(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const shot = path.join(ARTIFACTS, `${name.replace(/\W+/g, '-')}-${Date.now()}.png`);
      await this.page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      console.error(
        `e2e step "${name}" failed; screenshot: ${shot}\n` +
          `code-server log tail:\n${this.server.log().slice(-3000)}\nagent stderr:\n${this.agent()?.stderr() ?? ''}`,
      );
      throw err;
    }
  }

  statusItem(text: string | RegExp): ReturnType<Page['locator']> {
    return this.page.locator('.statusbar-item', { hasText: text });
  }

  /** Opens `relativePath` ("app/views.py") from the explorer. */
  async openFile(folder: string, file: string): Promise<void> {
    const rows = this.page.locator('.explorer-folders-view .monaco-list-row');
    await rows.filter({ hasText: new RegExp(`^${folder}$`) }).first().click();
    await rows.filter({ hasText: file }).dblclick();
    await this.page.locator('.tab.active', { hasText: file }).waitFor();
  }

  /** Replaces the active editor's text; saves it unless `save` is false. */
  async setEditorText(text: string, save = true): Promise<void> {
    await this.page.locator('.monaco-editor .view-lines').first().click();
    await this.page.keyboard.press('Control+a');
    await this.page.keyboard.press('Delete');
    await this.page.keyboard.insertText(text);
    await this.page.locator('.tab.active.dirty').waitFor();
    if (save) {
      await this.page.keyboard.press('Control+s');
      await this.page.locator('.tab.active.dirty').waitFor({ state: 'detached' });
    }
  }

  /** Runs a command from the palette (F1) by its full title, e.g. "Reload Agent: Rollback". */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    await this.page.locator('.quick-input-widget').waitFor();
    await this.page.keyboard.insertText(title);
    await this.pick(title);
  }

  /** Presses Enter once the highlighted quick pick row matches `text` (the filter has caught up with typing). */
  async pick(text: string | RegExp): Promise<void> {
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: text }).waitFor();
    await this.page.keyboard.press('Enter');
  }

  quickPickRow(text: string | RegExp): ReturnType<Page['locator']> {
    return this.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  }

  /** The notification toast containing `text`. */
  toast(text: string | RegExp): ReturnType<Page['locator']> {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  }

  /** The Problems view's entry mentioning `text`, with the view opened. */
  async problem(text: string): Promise<string> {
    await this.page.keyboard.press('Control+Shift+m');
    const row = this.page.locator('.markers-panel .monaco-list-row', { hasText: text }).first();
    await row.waitFor();
    return row.innerText();
  }
}

/** The app's answer is only observable by asking: poll it with a deadline. */
export async function appSays(agent: RunningAgent, expected: string): Promise<void> {
  let last = '';
  try {
    await waitFor(`the app to answer "${expected}"`, async () => ((last = await agent.ask()) === expected ? true : undefined), UI_TIMEOUT, 50);
  } catch {
    assert.equal(last, expected);
  }
}
