/**
 * Which agent to connect to: the `reloadAgent.address` setting, else
 * `RELOAD_AGENT_ADDRESS`, else the connection files (CONTRACT section 3).
 *
 *   const t = resolveTarget(settings, process.env);
 *   if (t.kind === 'choose') pick one of t.agents;
 */
import * as path from 'node:path';

import { liveAgents, runtimeDir, type AgentInfo } from './discovery';
import { ENV_ADDRESS, ENV_TOKEN } from './protocol';
import type { Settings } from './settings';

export interface Target {
  address: string;
  token: string | null;
  /** Known when the target came from a connection file. */
  agent?: AgentInfo;
}

export type Resolution =
  | { kind: 'target'; target: Target }
  | { kind: 'none'; dir: string }
  | { kind: 'choose'; agents: AgentInfo[]; dir: string };

export function resolveTarget(settings: Pick<Settings, 'address' | 'token'>, env: NodeJS.ProcessEnv = process.env): Resolution {
  if (settings.address) {
    return { kind: 'target', target: { address: settings.address, token: settings.token ?? null } };
  }
  const fromEnv = env[ENV_ADDRESS]?.trim();
  if (fromEnv) {
    return { kind: 'target', target: { address: fromEnv, token: settings.token ?? env[ENV_TOKEN] ?? null } };
  }
  const dir = runtimeDir(env);
  const agents = liveAgents(dir);
  if (agents.length === 0) {
    return { kind: 'none', dir };
  }
  if (agents.length === 1) {
    return { kind: 'target', target: targetOf(agents[0]) };
  }
  return { kind: 'choose', agents, dir };
}

export function targetOf(agent: AgentInfo): Target {
  return { address: agent.address, token: agent.token, agent };
}

/**
 * The agent to connect to without asking the user: the configured one, the
 * only one running, or, among several, the only one started inside one of
 * `workspaceFolders`. `undefined` when there is none or the choice is the user's.
 */
export function automaticTarget(
  settings: Pick<Settings, 'address' | 'token'>,
  workspaceFolders: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Target | undefined {
  const resolution = resolveTarget(settings, env);
  if (resolution.kind === 'target') {
    return resolution.target;
  }
  if (resolution.kind === 'choose') {
    const inside = resolution.agents.filter((a) => workspaceFolders.some((f) => a.cwd === f || a.cwd.startsWith(f.endsWith(path.sep) ? f : f + path.sep)));
    return inside.length === 1 ? targetOf(inside[0]) : undefined;
  }
  return undefined;
}
