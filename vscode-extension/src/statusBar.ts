/**
 * The status bar item: the connection (disconnected / connecting / pid), then
 * the last reload's result and time. Clicking it shows the history, or
 * connects when there is no connection.
 */
import * as vscode from 'vscode';

import { connectionText, statusText, type ConnectionState, type Relativize } from './format';
import type { Outcome } from './outcome';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private connection: ConnectionState = { state: 'disconnected' };

  constructor(private readonly rel: Relativize) {
    this.item = vscode.window.createStatusBarItem('reloadAgent.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Reload Agent';
    this.setConnection(this.connection);
    this.item.show();
  }

  setConnection(connection: ConnectionState, note?: string): void {
    this.connection = connection;
    this.item.text = connectionText(connection);
    this.item.backgroundColor = undefined;
    if (connection.state === 'connected') {
      this.item.tooltip = `Reload Agent: connected to pid ${connection.pid} at ${connection.address}. Click for history.`;
      this.item.command = 'reloadAgent.showHistory';
    } else {
      this.item.tooltip = `Reload Agent: ${note ?? connection.state}. Click to connect.`;
      this.item.command = 'reloadAgent.connect';
    }
  }

  showOutcome(outcome: Outcome): void {
    this.item.text = statusText(outcome, this.rel);
    this.item.backgroundColor = outcome.ok ? undefined : new vscode.ThemeColor('statusBarItem.errorBackground');
    const pid = this.connection.state === 'connected' ? ` (pid ${this.connection.pid})` : '';
    const error = outcome.error ? `\n${outcome.error.exception.type}: ${outcome.error.exception.message}` : '';
    this.item.tooltip = `Reload Agent${pid}: transaction #${outcome.transaction ?? '?'}${error}\nClick for history.`;
    this.item.command = 'reloadAgent.showHistory';
  }

  dispose(): void {
    this.item.dispose();
  }
}
