import type { ChildProcess } from "node:child_process";

export const ROOT: string;
export const RUNNER_BUNDLE: string;
export const QUIET_ENV: Record<string, string>;
export function buildRunner(outfile?: string, opts?: { readable?: boolean }): void;
export function applyMigrations(persistTo?: string): void;
export function startWorker(opts: {
  port: number;
  persistTo?: string;
  vars?: Record<string, string>;
  log?: (line: string) => void;
}): Promise<{ url: string; child: ChildProcess; output: string[]; stop: () => Promise<void> }>;
export function startRunner(opts: {
  server: string;
  token?: string;
  concurrency?: number;
  labels?: string;
  id?: string;
  runAs?: string;
  /** The runs' files on the runner's host; default: a fresh temporary folder. */
  logDir?: string;
  /** More flags of the runner (`--launcher spawn`, `--no-early-start`, ...). */
  args?: string[];
  /** Flags of Node itself, before the bundle (`--inspect=...`). */
  nodeArgs?: string[];
  /** Variables added to the runner's environment (`DAGFLARE_RUNNER_TRACE`). */
  env?: Record<string, string>;
  /** Another runner bundle than runner/dist/runner.mjs. */
  bundle?: string;
  log?: (line: string) => void;
}): { child: ChildProcess; output: string[]; tokenFile: string | undefined };
export function writeTokenFile(token: string): string;
export function apiClient(url: string, token: string): (method: string, path: string, body?: unknown) => Promise<any>;
export function stopGroup(child: ChildProcess, signal?: NodeJS.Signals): Promise<void>;
export const BIN: string;
export function toolEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
