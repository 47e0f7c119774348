/**
 * Translating file paths between the editor's machine and the agent's process.
 * The longest matching root wins; a path under no root is outside every mapping.
 *
 *   toRemote('/home/me/app/views.py', [{localRoot: '/home/me/app', remoteRoot: '/srv/app'}])
 *   // -> '/srv/app/views.py'
 */
import type { PathMapping } from './settings';

/** The agent's path for `localPath`, or `undefined` when no mapping covers it. */
export function toRemote(localPath: string, mappings: readonly PathMapping[]): string | undefined {
  return translate(localPath, mappings, 'localRoot', 'remoteRoot');
}

/** The local path for the agent's `remotePath`, or `undefined` when no mapping covers it. */
export function toLocal(remotePath: string, mappings: readonly PathMapping[]): string | undefined {
  return translate(remotePath, mappings, 'remoteRoot', 'localRoot');
}

/** Without mappings paths are shared; with them, only mapped paths exist on the other side. */
export function agentPath(localPath: string, mappings: readonly PathMapping[]): string | undefined {
  return mappings.length === 0 ? localPath : toRemote(localPath, mappings);
}

/** Inverse of {@link agentPath}. */
export function editorPath(remotePath: string, mappings: readonly PathMapping[]): string | undefined {
  return mappings.length === 0 ? remotePath : toLocal(remotePath, mappings);
}

function translate(p: string, mappings: readonly PathMapping[], from: keyof PathMapping, to: keyof PathMapping): string | undefined {
  let best: PathMapping | undefined;
  for (const m of mappings) {
    if (isUnder(p, m[from]) && (best === undefined || m[from].length > best[from].length)) {
      best = m;
    }
  }
  if (best === undefined) {
    return undefined;
  }
  const rest = p.slice(best[from].length).replace(/^[\\/]+/, '');
  if (rest === '') {
    return best[to];
  }
  // Paths on the other side use that side's separator.
  const sep = best[to].includes('\\') && !best[to].includes('/') ? '\\' : '/';
  return best[to] + sep + rest.split(/[\\/]/).join(sep);
}

function isUnder(p: string, root: string): boolean {
  if (p === root) {
    return true;
  }
  return p.startsWith(root) && (p[root.length] === '/' || p[root.length] === '\\' || root.endsWith('/'));
}
