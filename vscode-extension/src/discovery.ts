/**
 * Finding running agents through their connection files (CONTRACT section 3).
 * Pure Node: no `vscode` import, so it is unit-tested directly.
 *
 *   const agents = liveAgents(runtimeDir(process.env));
 *   if (agents.length === 1) connectTo(agents[0].address, agents[0].token);
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ENV_RUNTIME_DIR } from './protocol';

/** The content of one `agent-<pid>.json`. */
export interface AgentInfo {
  pid: number;
  address: string;
  token: string | null;
  argv: string[];
  cwd: string;
  python: string;
  version: string;
  started: string;
  /** The file it was read from. */
  file: string;
}

const PREFIX = 'agent-';
const SUFFIX = '.json';

/**
 * The directory holding connection files: `$RELOAD_AGENT_RUNTIME_DIR`, else
 * `$XDG_RUNTIME_DIR/reload-agent`, else `~/.cache/reload-agent/run`.
 */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  const explicit = env[ENV_RUNTIME_DIR];
  if (explicit) {
    return explicit;
  }
  if (env.XDG_RUNTIME_DIR) {
    return path.join(env.XDG_RUNTIME_DIR, 'reload-agent');
  }
  return path.join(home, '.cache', 'reload-agent', 'run');
}

/** True when a process with `pid` exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses one connection file's JSON; `undefined` when it is not one. */
export function parseConnectionFile(text: string, file: string): AgentInfo | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) {
    return undefined;
  }
  const d = data as Record<string, unknown>;
  const pid = Number(d.pid);
  if (!Number.isInteger(pid) || typeof d.address !== 'string' || d.address === '') {
    return undefined;
  }
  return {
    pid,
    address: d.address,
    token: typeof d.token === 'string' ? d.token : null,
    argv: Array.isArray(d.argv) ? d.argv.map(String) : [],
    cwd: typeof d.cwd === 'string' ? d.cwd : '',
    python: typeof d.python === 'string' ? d.python : '',
    version: typeof d.version === 'string' ? d.version : '',
    started: typeof d.started === 'string' ? d.started : '',
    file,
  };
}

/**
 * Agents whose connection files name a live process, lowest pid first. Files
 * of dead processes are skipped and, with `clean`, deleted.
 */
export function liveAgents(dir: string, options: { clean?: boolean; alive?: (pid: number) => boolean } = {}): AgentInfo[] {
  const clean = options.clean ?? true;
  const alive = options.alive ?? pidAlive;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const agents: AgentInfo[] = [];
  for (const name of names.sort()) {
    if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) {
      continue;
    }
    const file = path.join(dir, name);
    let info: AgentInfo | undefined;
    try {
      info = parseConnectionFile(fs.readFileSync(file, 'utf8'), file);
    } catch {
      continue;
    }
    if (info === undefined) {
      continue;
    }
    if (alive(info.pid)) {
      agents.push(info);
    } else if (clean) {
      fs.rmSync(file, { force: true });
    }
  }
  return agents.sort((a, b) => a.pid - b.pid);
}
