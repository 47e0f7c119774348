/**
 * Diagnostics for reloads the extension asked for itself (commands, and saves
 * pushed through path mappings): the agent publishes diagnostics only after a
 * `didSave`, so these failures are shown here, at the same place the agent
 * would put them. Clearing on success covers both this collection and the
 * language client's.
 */
import * as vscode from 'vscode';

import { editorPath } from './pathMapping';
import type { ReloadFailure } from './protocol';
import type { PathMapping } from './settings';

export const DIAGNOSTIC_SOURCE = 'reload-agent';

/** The editor range for a failure: the whole failing line, from the column when known. */
export function failureDiagnostic(failure: ReloadFailure): vscode.Diagnostic | undefined {
  const { line, column, type, message } = failure.exception;
  if (!line) {
    return undefined;
  }
  const start = new vscode.Position(line - 1, column ?? 0);
  const range = new vscode.Range(start, new vscode.Position(line - 1, Number.MAX_SAFE_INTEGER));
  const d = new vscode.Diagnostic(range, `${type}: ${message}`, vscode.DiagnosticSeverity.Error);
  d.source = DIAGNOSTIC_SOURCE;
  return d;
}

export class ReloadDiagnostics implements vscode.Disposable {
  private readonly own = vscode.languages.createDiagnosticCollection('reload-agent-requests');

  /** Shows `failure` on its file (mapped back to a local path); returns false when it has no place. */
  show(failure: ReloadFailure, mappings: readonly PathMapping[]): boolean {
    const file = failure.exception.file ? editorPath(failure.exception.file, mappings) : undefined;
    const diagnostic = failureDiagnostic(failure);
    if (file === undefined || diagnostic === undefined) {
      return false;
    }
    this.own.set(vscode.Uri.file(file), [diagnostic]);
    return true;
  }

  /** Clears reload diagnostics on these local files, ours and the language client's. */
  clear(files: readonly string[], clientCollection: vscode.DiagnosticCollection | undefined): void {
    for (const f of files) {
      const uri = vscode.Uri.file(f);
      this.own.delete(uri);
      clientCollection?.delete(uri);
    }
  }

  /** True when any reload diagnostic is showing (so clearing is worth a `listModules`). */
  any(clientCollection: vscode.DiagnosticCollection | undefined): boolean {
    let found = false;
    const check = (_uri: vscode.Uri, ds: readonly vscode.Diagnostic[]): void => {
      found ||= ds.length > 0;
    };
    this.own.forEach(check);
    clientCollection?.forEach(check);
    return found;
  }

  dispose(): void {
    this.own.dispose();
  }
}
