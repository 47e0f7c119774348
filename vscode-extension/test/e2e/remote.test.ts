// End to end with reloadAgent.pathMappings: the editor's folder is a copy of the program's, as with a container or a
// remote host. Saves push the editor's text; failures show on the local file; then the other commands: Reload Current
// Module with unsaved changes, Show Modules (pick = reload), Show History, Connect with two agents running.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { startAgent, tempDir, type RunningAgent } from '../support/agentProcess';
import { viewsSaying, VIEWS_V1, writeSampleApp } from '../support/sampleApp';
import { appSays, Workbench } from '../support/workbench';

let agent: RunningAgent | undefined;
let second: RunningAgent | undefined;
let vscode: Workbench | undefined;
let local: string;

before(async () => {
  agent = await startAgent();
  local = path.join(tempDir('ra-local-'), 'checkout');
  writeSampleApp(local);
  fs.mkdirSync(path.join(local, '.vscode'));
  fs.writeFileSync(
    path.join(local, '.vscode', 'settings.json'),
    JSON.stringify({ 'reloadAgent.pathMappings': [{ localRoot: '${workspaceFolder}', remoteRoot: fs.realpathSync(agent.dir) }] }),
  );
  vscode = await Workbench.open(local, () => agent);
});

after(async () => {
  await vscode?.close();
  await agent?.stop();
  await second?.stop();
});

test('path mappings push the buffer; Reload Current Module, Show Modules, Show History and Connect (pick list) work', { timeout: 240000 }, async () => {
  assert.ok(agent && vscode);
  const ui = vscode;
  const app = agent;
  const remoteViews = path.join(app.dir, 'app', 'views.py');

  await ui.step('connected', async () => {
    await ui.statusItem(`pid ${app.info.pid}`).waitFor();
    await ui.openFile('app', 'views.py');
  });

  await ui.step('save pushes the editor text to the agent', async () => {
    await ui.setEditorText(viewsSaying('pushed from the editor'));
    await appSays(app, 'pushed from the editor');
    await ui.statusItem(/app\.views patched [\d.]+ m?s/).waitFor();
    assert.equal(fs.readFileSync(remoteViews, 'utf8'), VIEWS_V1, "the agent's own file is not touched");
  });

  await ui.step('a failed push shows on the local file', async () => {
    await ui.setEditorText(viewsSaying('broken').replace('"broken"', '"broken" +'));
    await ui.statusItem(/SyntaxError app\/views\.py:5/).waitFor();
    await ui.page.locator('.monaco-editor .squiggly-error').first().waitFor();
    assert.match(await ui.problem('SyntaxError'), /\[Ln 5, Col \d+\]/);
    assert.equal(await app.ask(), 'pushed from the editor');
  });

  await ui.step('Reload Current Module sends unsaved changes and clears the diagnostic', async () => {
    await ui.setEditorText(viewsSaying('not saved yet'), false);
    await ui.runCommand('Reload Agent: Reload Current Module');
    await appSays(app, 'not saved yet');
    await ui.page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'detached' });
    await ui.page.locator('.markers-panel', { hasText: 'No problems have been detected' }).waitFor();
  });

  await ui.step('Show Modules lists app.views; picking it reloads it from the agent side', async () => {
    await ui.runCommand('Reload Agent: Show Modules');
    await ui.page.keyboard.insertText('app.views');
    await ui.pick(/^\W*app\.views/);
    // No text is pushed for a module picked by name: the agent reads its own (unchanged) file.
    await appSays(app, 'hello');
  });

  await ui.step('Show History lists the transactions, failures included', async () => {
    await ui.runCommand('Reload Agent: Show History');
    await ui.quickPickRow(/#1 reload app\.views/).waitFor();
    await ui.quickPickRow(/#2 reload app\.views.*SyntaxError app\/views\.py:5/).waitFor();
    await ui.page.keyboard.press('Escape');
  });

  await ui.step('Connect offers a pick list when several agents run', async () => {
    second = await startAgent({ runtimeDir: app.runtimeDir });
    await ui.runCommand('Reload Agent: Connect');
    await ui.quickPickRow(`pid ${app.info.pid}`).waitFor();
    await ui.quickPickRow(`pid ${second.info.pid}`).click();
    await ui.statusItem(`pid ${second.info.pid}`).waitFor();
  });
});
