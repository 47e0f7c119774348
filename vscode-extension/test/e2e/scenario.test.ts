// End to end in a real VS Code (code-server + Debian chromium through playwright-core), the scenario of issue 6:
// edit and save -> the running app changes and the status bar says so; a syntax error -> a diagnostic on that line and
// the app unchanged; "Rollback" from the command palette -> the previous behaviour is back. Then: the agent restarts
// and the extension reconnects; a reload from the CLI shows in the status bar.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { LAUNCH_COMMAND } from '../../src/format';
import { pythonExecutable, startAgent, waitFor, type RunningAgent } from '../support/agentProcess';
import { viewsSaying, VIEWS_V1 } from '../support/sampleApp';
import { appSays, Workbench } from '../support/workbench';

let agent: RunningAgent | undefined;
let vscode: Workbench | undefined;

before(async () => {
  agent = await startAgent();
  const dir = agent.dir;
  vscode = await Workbench.open(dir, () => agent);
});

after(async () => {
  await vscode?.close();
  await agent?.stop();
});

test('save reloads; a syntax error shows on its line and changes nothing; palette rollback; reconnect; CLI reloads show; status bar opens history', { timeout: 240000 }, async () => {
  assert.ok(agent && vscode);
  const ui = vscode;
  let app = agent;
  const views = path.join(app.dir, 'app', 'views.py');

  await ui.step('connected', async () => {
    await ui.statusItem(`pid ${app.info.pid}`).waitFor();
  });

  await ui.step('open module', async () => {
    await ui.openFile('app', 'views.py');
    await ui.page.locator('.monaco-editor .view-line', { hasText: 'hello' }).waitFor();
  });

  await ui.step('edit and save reloads', async () => {
    assert.equal(await app.ask(), 'hello');
    await ui.setEditorText(viewsSaying('saved from vscode'));
    await appSays(app, 'saved from vscode');
    await ui.statusItem(/app\.views patched [\d.]+ m?s/).waitFor();
  });

  await ui.step('syntax error shows a diagnostic on its line', async () => {
    await ui.setEditorText(viewsSaying('broken').replace('"broken"', '"broken" +'));
    await ui.statusItem(/SyntaxError .*views\.py:5/).waitFor();
    await ui.page.locator('.monaco-editor .squiggly-error').first().waitFor();
    assert.match(await ui.problem('SyntaxError'), /\[Ln 5, Col \d+\]/);
    assert.equal(await app.ask(), 'saved from vscode', 'a failed reload must leave the app as it was');
  });

  await ui.step('rollback from the command palette', async () => {
    await ui.runCommand('Reload Agent: Rollback');
    // The quick pick of undoable transactions, newest first.
    await ui.pick(/#\d+ reload app\.views/);
    await appSays(app, 'hello');
    await ui.statusItem(/app\.views rolled back #\d+/).waitFor();
  });

  await ui.step('reconnect after the agent restarts', async () => {
    const oldPid = app.info.pid;
    await app.stop();
    await ui.statusItem('Reload Agent: disconnected').waitFor();
    // Asking to connect now says no agent runs, and offers the launcher command.
    await ui.runCommand('Reload Agent: Connect');
    const toast = ui.toast('No reload agent is running');
    await toast.getByRole('button', { name: 'Copy Command' }).click();
    // The button's clipboard write travels extension host -> browser asynchronously: wait for it to land.
    await waitFor('the launcher command on the clipboard', async () => ((await ui.page.evaluate('navigator.clipboard.readText()')) === LAUNCH_COMMAND ? true : undefined));
    // The broken text is still on disk (rollback restores the process, not files): fix it before restarting.
    fs.writeFileSync(views, VIEWS_V1);
    app = agent = await startAgent({ restart: app });
    assert.notEqual(app.info.pid, oldPid);
    await ui.statusItem(`pid ${app.info.pid}`).waitFor();
  });

  await ui.step('a reload from the CLI shows in the status bar', async () => {
    fs.writeFileSync(views, viewsSaying('from the cli'));
    const cli = spawnSync(pythonExecutable(), ['-m', 'reload_agent_client.cli', 'reload', 'app.views'], {
      env: { ...process.env, RELOAD_AGENT_RUNTIME_DIR: app.runtimeDir, HOME: app.home },
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(cli.status, 0, `${cli.stdout}${cli.stderr}`);
    assert.equal(await app.ask(), 'from the cli');
    await ui.statusItem(/app\.views patched [\d.]+ m?s/).waitFor();
  });

  await ui.step('clicking the status bar item shows the history', async () => {
    await ui.statusItem(/app\.views patched/).click();
    await ui.quickPickRow(/#1 reload app\.views/).waitFor();
    await ui.page.keyboard.press('Escape');
  });
});
