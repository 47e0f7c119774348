/**
 * Wire facts of the reload-agent protocol, mirrored from the Python client's
 * `reload_agent_client/protocol.py` (their one home). `test/unit/protocol.test.ts`
 * reads that file and fails when the two disagree.
 */

export const METHOD_INITIALIZE = 'initialize';
export const METHOD_LIST_MODULES = 'reloadAgent/listModules';
export const METHOD_RELOAD = 'reloadAgent/reload';
export const METHOD_ROLLBACK = 'reloadAgent/rollback';
export const METHOD_HISTORY = 'reloadAgent/history';
export const METHOD_STATUS = 'reloadAgent/status';

export const NOTIFY_DID_RELOAD = 'reloadAgent/didReload';
export const NOTIFY_DID_ROLLBACK = 'reloadAgent/didRollback';

export const COMMAND_RELOAD = 'reloadAgent.reload';
export const COMMAND_ROLLBACK = 'reloadAgent.rollback';
export const COMMAND_LIST_MODULES = 'reloadAgent.listModules';

/** JSON-RPC error codes the agent uses. */
export const ErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  UNAUTHORIZED: -32001,
  NOT_INITIALIZED: -32002,
  RELOAD_FAILED: -32010,
  NOTHING_TO_ROLLBACK: -32011,
} as const;

export const PHASES = ['resolve', 'compile', 'execute', 'patch', 'hook', 'verify'] as const;
export const MODES = ['auto', 'patch', 'full'] as const;

export const ENV_ADDRESS = 'RELOAD_AGENT_ADDRESS';
export const ENV_TOKEN = 'RELOAD_AGENT_TOKEN';
export const ENV_RUNTIME_DIR = 'RELOAD_AGENT_RUNTIME_DIR';

export type Phase = (typeof PHASES)[number];
export type Mode = (typeof MODES)[number];

// Result shapes (reload_agent/engine/results.py to_json()).

export interface Frame {
  file: string;
  line: number;
  function: string;
}

export interface ExceptionInfo {
  type: string;
  message: string;
  file: string | null;
  line: number | null;
  column: number | null;
  traceback: Frame[];
}

/** `data` of a -32010 error. */
export interface ReloadFailure {
  transaction: number | null;
  phase: Phase;
  module: string | null;
  exception: ExceptionInfo;
  rolledBack: boolean;
}

export interface ModuleResult {
  name: string;
  mode: 'patch' | 'full';
  version: number;
  patched: { functions: string[]; classes: string[] };
  replaced: { name: string; reason: string }[];
  reason?: string;
}

export interface ReloadResult {
  transaction: number;
  modules: ModuleResult[];
  durationMs: number;
  dryRun?: boolean;
}

export interface RollbackResult {
  transaction: number;
  rolledBack: number;
  modules: { name: string; version: number }[];
  durationMs: number;
}

export interface ModuleInfo {
  name: string;
  file: string | null;
  stale: boolean;
  version: number;
  reloadable: boolean;
}

export interface TransactionRecord {
  id: number;
  time: string;
  kind?: 'reload' | 'rollback';
  modules: string[];
  ok: boolean;
  durationMs: number;
  rolledBack: boolean;
  error?: ReloadFailure | Record<string, unknown>;
}

export interface ReloadParams {
  modules?: string[];
  files?: string[];
  stale?: boolean;
  dependents?: boolean;
  mode?: Mode;
  sources?: Record<string, string>;
  dryRun?: boolean;
}

export interface RollbackParams {
  module?: string;
  transaction?: number;
}

/** `reloadAgent` part of the `initialize` result. */
export interface AgentIdentity {
  pid: number;
  python: string;
  argv: string[];
  cwd: string;
  version: string;
}

/**
 * `reloadAgent/didReload` and `reloadAgent/didRollback` notifications. The
 * contract fixes `transaction`, `ok`, `modules` and `error`; the rest is read
 * when the agent sends it.
 */
export interface ReloadNotification {
  transaction: number;
  ok: boolean;
  modules: (string | ModuleResult | { name: string; version?: number })[];
  error?: ReloadFailure;
  durationMs: number;
  rolledBack?: number;
}
