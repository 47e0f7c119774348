/**
 * The "Reload Agent" output channel: every reload with its timing, connection
 * events, and errors. One instance, created by `extension.ts`.
 */
import * as vscode from 'vscode';

export class Log implements vscode.Disposable {
  readonly channel: vscode.OutputChannel;

  constructor(name = 'Reload Agent') {
    this.channel = vscode.window.createOutputChannel(name);
  }

  /** A line already formatted (reload lines carry their own time stamp). */
  raw(line: string): void {
    this.channel.appendLine(line);
  }

  info(message: string): void {
    this.channel.appendLine(`[${stamp()}] ${message}`);
  }

  error(message: string, err?: unknown): void {
    const detail = err === undefined ? '' : `: ${err instanceof Error ? err.message : String(err)}`;
    this.channel.appendLine(`[${stamp()}] ERROR ${message}${detail}`);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}
