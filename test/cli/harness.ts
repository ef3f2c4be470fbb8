// The dagflare command as users run it: the built bundle, spawned as a process of its own with
// a private config directory, its output and exit code collected.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI_BUNDLE } from "../../scripts/build-cli.mjs";
import { tempDir } from "../e2e/harness";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
  /** An installed `dagflare` to run (default: the bundle in cli/dist). */
  bin?: string;
}

/** A user of the command: their own config directory and environment. */
export class CliUser {
  readonly home = tempDir("cli-home");
  readonly configDir = path.join(this.home, "config");

  constructor(private readonly baseEnv: Record<string, string> = {}) {}

  run(args: string[], opts: CliOptions = {}): Promise<CliResult> {
    return this.spawn(args, opts).done;
  }

  /** Starts the command and returns at once: its process, its output so far, and its end. */
  spawn(args: string[], opts: CliOptions = {}) {
    // An installed command runs by itself (its #! line); the bundle under test through this Node.
    const [command, argv] = opts.bin ? [opts.bin, args] : [process.execPath, [CLI_BUNDLE, ...args]];
    const child = spawn(command, argv, {
      cwd: opts.cwd ?? this.home,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: this.home,
        XDG_CONFIG_HOME: this.configDir,
        NO_COLOR: "1",
        ...this.baseEnv,
        ...opts.env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b.toString()));
    child.stderr.on("data", (b) => (stderr += b.toString()));
    child.stdin.end(opts.input ?? "");
    const done = new Promise<CliResult>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
    return { child, done, stdout: () => stdout };
  }

  /** Writes DAG files into a new folder under the user's home; returns the folder. */
  dagFolder(name: string, files: Record<string, string>): string {
    const dir = path.join(this.home, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
    return dir;
  }
}

/** The lines of a text, without the empty last one. */
export const lines = (text: string) => text.split("\n").filter((l) => l !== "");
