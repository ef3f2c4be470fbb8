// A step's `stdout` / `stderr` keys: files on the runner's host that the process's output is
// also appended to (as Dagu does; the log still goes to the server). Opened before the process
// starts, so a file that cannot be opened fails the step before it runs anything.
import { closeSync, openSync, writeSync } from "node:fs";
import type { ExecSpec } from "../../src/shared/protocol.ts";
import { expandWithShell } from "./conditions.ts";
import type { Stream } from "./process-group.ts";

/**
 * Runs the backticks of the stdout/stderr paths written with them (`logs/`date +%F`.out`), as
 * Dagu does, with the step's shell and env, and fills their variables from the step's env; the
 * result replaces the path. An error (a failing command) is returned, and fails the step.
 */
export async function expandShellFiles(exec: ExecSpec): Promise<string | undefined> {
  for (const stream of exec.shellFiles ?? []) {
    const key = stream === "stdout" ? "stdoutFile" : "stderrFile";
    const template = exec[key];
    if (template === undefined) continue;
    const r = await expandWithShell(exec, template);
    if ("error" in r) return `${stream} file ${template}: command substitution failed (${r.error})`;
    exec[key] = r.value;
  }
  return undefined;
}

/** A file the step's output is appended to, open. */
export interface OwnFile {
  stream: Stream;
  fd: number;
  file: string;
}

export class OutputFiles {
  private readonly fds: OwnFile[] = [];

  private constructor() {}

  /**
   * Opens (creating, appending) each file given by absolute path, the step's `stdout`/`stderr`
   * files; the first failure is described. Then `own`, this host's copies of its output, opened
   * already (run-files.ts): they are closed with the others, or at once on a failure.
   */
  static open(files: Partial<Record<Stream, string>>, own: OwnFile[] = []): OutputFiles | { error: string } {
    const out = new OutputFiles();
    for (const stream of ["stdout", "stderr"] as const) {
      const file = files[stream];
      if (file === undefined) continue;
      try {
        out.fds.push({ stream, fd: openSync(file, "a"), file });
      } catch (err) {
        out.close();
        for (const f of own) closeQuietly(f.fd);
        return {
          error: `cannot open the ${stream} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        };
      }
    }
    out.fds.push(...own);
    return out;
  }

  /** Appends `text` to the stream's files; a write that fails closes that file and returns why (once). */
  write(stream: Stream, text: string): string | undefined {
    let problem: string | undefined;
    for (const f of [...this.fds]) {
      if (f.stream !== stream) continue;
      try {
        writeSync(f.fd, text);
      } catch (err) {
        this.fds.splice(this.fds.indexOf(f), 1);
        closeQuietly(f.fd);
        problem ??= `writing the ${stream} file ${f.file} failed (${(err as Error).message}); it is incomplete`;
      }
    }
    return problem;
  }

  close(): void {
    for (const { fd } of this.fds) closeQuietly(fd);
    this.fds.length = 0;
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closing is the last thing done with the file; there is nothing left to save.
  }
}
