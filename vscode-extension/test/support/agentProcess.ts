/**
 * Starting a real agent process for the tests: `python -m reload_agent --quiet
 * main.py` in a temp workspace, with its own runtime dir and HOME so parallel
 * test runs never see each other's agents.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import { liveAgents, type AgentInfo } from '../../src/discovery';
import { writeSampleApp } from './sampleApp';

/** The repository root (this file compiles to out/test/support/). */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');

/** `$RELOAD_AGENT_PYTHON`, else the repo's .venv, else `python3` from PATH. */
export function pythonExecutable(): string {
  if (process.env.RELOAD_AGENT_PYTHON) {
    return process.env.RELOAD_AGENT_PYTHON;
  }
  const venv = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  return fs.existsSync(venv) ? venv : 'python3';
}

export interface RunningAgent {
  /** The workspace folder holding the app. */
  dir: string;
  runtimeDir: string;
  home: string;
  info: AgentInfo;
  process: ChildProcess;
  /** What the app's HTTP server answers now. */
  ask(): Promise<string>;
  /** Kills the process and waits for it to be reaped. */
  stop(): Promise<void>;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Polls `check` until it returns a value; used only where no event exists (files written by another process). */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function httpGet(port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export interface StartOptions {
  /** Start again in this agent's workspace, runtime dir and HOME, as after a restart. */
  restart?: RunningAgent;
  /** A new workspace, but connection files in this runtime dir (several agents side by side). */
  runtimeDir?: string;
}

/** Starts the sample app under the agent (in a fresh temp workspace unless restarting) and waits until both are up. */
export async function startAgent(options: StartOptions = {}): Promise<RunningAgent> {
  const root = tempDir('ra-agent-');
  const previous = options.restart;
  const dir = previous?.dir ?? path.join(root, 'workspace');
  const runtimeDir = previous?.runtimeDir ?? options.runtimeDir ?? path.join(root, 'run');
  const home = previous?.home ?? path.join(root, 'home');
  fs.mkdirSync(home, { recursive: true });
  if (previous === undefined) {
    writeSampleApp(dir);
  }
  fs.rmSync(path.join(dir, 'port.txt'), { force: true });
  const child = spawn(pythonExecutable(), ['-m', 'reload_agent', '--quiet', 'main.py'], {
    cwd: dir,
    env: { ...process.env, RELOAD_AGENT_RUNTIME_DIR: runtimeDir, HOME: home, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
    await exited;
  };
  try {
    const alive = (): void => {
      if (child.exitCode !== null) {
        throw new Error(`agent exited with ${child.exitCode}: ${stderr}`);
      }
    };
    const info = await waitFor('the agent connection file', () => {
      alive();
      return liveAgents(runtimeDir).find((a) => a.pid === child.pid);
    });
    const port = await waitFor('the app port file', () => {
      alive();
      const file = path.join(dir, 'port.txt');
      return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : undefined;
    });
    return { dir, runtimeDir, home, info, process: child, ask: () => httpGet(port), stop, stderr: () => stderr };
  } catch (err) {
    await stop();
    throw err;
  }
}
