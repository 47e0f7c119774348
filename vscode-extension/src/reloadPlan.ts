/**
 * What to send the agent for one editor document: the module names loaded
 * from its file and, when the agent cannot read the editor's text itself
 * (path mappings, or unsaved changes), the text as `sources`.
 *
 *   planReload({ path, text, dirty: false }, modules, []) // { modules: ['app.views'] }
 */
import { agentPath } from './pathMapping';
import type { ModuleInfo, ReloadParams } from './protocol';
import type { PathMapping } from './settings';

export interface DocumentLike {
  /** Local file system path. */
  path: string;
  text: string;
  dirty: boolean;
}

export type Plan = { kind: 'reload'; params: ReloadParams; remotePath: string } | { kind: 'skip'; reason: string };

/** Module names whose `file` is `remotePath` (a package's `__init__.py` included). */
export function modulesForFile(remotePath: string, modules: readonly ModuleInfo[]): string[] {
  return modules.filter((m) => m.file !== null && samePath(m.file, remotePath)).map((m) => m.name);
}

export function planReload(doc: DocumentLike, modules: readonly ModuleInfo[], mappings: readonly PathMapping[]): Plan {
  const remotePath = agentPath(doc.path, mappings);
  if (remotePath === undefined) {
    return { kind: 'skip', reason: `${doc.path} is under no reloadAgent.pathMappings localRoot` };
  }
  const names = modulesForFile(remotePath, modules);
  if (names.length === 0) {
    return { kind: 'skip', reason: `the agent has not loaded ${remotePath}` };
  }
  const params: ReloadParams = { modules: names };
  if (mappings.length > 0 || doc.dirty) {
    params.sources = Object.fromEntries(names.map((n) => [n, doc.text]));
  }
  return { kind: 'reload', params, remotePath };
}

function samePath(a: string, b: string): boolean {
  // Windows agents report drive letters in either case.
  return a === b || (/^[a-zA-Z]:[\\/]/.test(a) && a.toLowerCase() === b.toLowerCase());
}
