/**
 * The extension's settings, read and validated in one place. Takes anything
 * with a `get(key)` (a `WorkspaceConfiguration` in VS Code, a plain object in
 * tests), so it needs no `vscode` import.
 *
 *   const s = readSettings(vscode.workspace.getConfiguration('reloadAgent'), folders);
 */
import * as path from 'node:path';

export const SECTION = 'reloadAgent';

export interface PathMapping {
  /** Absolute, normalised folder on this machine. */
  localRoot: string;
  /** The same folder as the agent sees it (POSIX or Windows style, kept as given but without a trailing slash). */
  remoteRoot: string;
}

export interface Settings {
  /** Explicit agent address; `undefined`: use discovery. */
  address: string | undefined;
  token: string | undefined;
  reloadOnSave: boolean;
  pathMappings: PathMapping[];
}

export interface ConfigurationLike {
  get<T>(key: string): T | undefined;
}

/**
 * Reads the settings. `${workspaceFolder}` in a `localRoot` becomes the first
 * workspace folder; relative local roots are taken from it too. Invalid
 * mapping entries are dropped and reported through `problems`.
 */
export function readSettings(config: ConfigurationLike, workspaceFolders: readonly string[] = [], problems: string[] = []): Settings {
  const address = nonEmpty(config.get<string>('address'));
  const token = nonEmpty(config.get<string>('token'));
  const reloadOnSave = config.get<boolean>('reloadOnSave') ?? true;
  const raw = config.get<unknown>('pathMappings') ?? [];
  const pathMappings: PathMapping[] = [];
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const mapping = parseMapping(entry, workspaceFolders[0]);
      if (mapping === undefined) {
        problems.push(`ignored reloadAgent.pathMappings entry ${JSON.stringify(entry)}: needs localRoot and remoteRoot strings`);
      } else {
        pathMappings.push(mapping);
      }
    }
  } else {
    problems.push('reloadAgent.pathMappings must be an array of {localRoot, remoteRoot}');
  }
  return { address, token, reloadOnSave: reloadOnSave !== false, pathMappings };
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = typeof value === 'string' ? value.trim() : '';
  return v === '' ? undefined : v;
}

function parseMapping(entry: unknown, workspaceFolder: string | undefined): PathMapping | undefined {
  if (typeof entry !== 'object' || entry === null) {
    return undefined;
  }
  const { localRoot, remoteRoot } = entry as Record<string, unknown>;
  if (typeof localRoot !== 'string' || typeof remoteRoot !== 'string' || localRoot.trim() === '' || remoteRoot.trim() === '') {
    return undefined;
  }
  let local = localRoot.trim();
  if (workspaceFolder !== undefined) {
    local = local.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
    local = path.resolve(workspaceFolder, local);
  } else if (local.includes('${workspaceFolder}') || !path.isAbsolute(local)) {
    return undefined;
  }
  return { localRoot: trimSlash(path.normalize(local)), remoteRoot: trimSlash(remoteRoot.trim()) };
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/[\\/]+$/, '') : p;
}
