// A step's `stdout` / `stderr` keys: files on the runner's host that the process's output is
// also appended to (as Dagu does; the log still goes to the server). Opened before the process
// starts, so a file that cannot be opened fails the step before it runs anything.
import { closeSync, openSync, writeSync } from "node:fs";
import type { Stream } from "./process-group.ts";

export class OutputFiles {
  private readonly fds = new Map<Stream, { fd: number; file: string }>();

  private constructor() {}

  /** Opens (creating, appending) each file given by absolute path; the first failure is described. */
  static open(files: Partial<Record<Stream, string>>): OutputFiles | { error: string } {
    const out = new OutputFiles();
    for (const stream of ["stdout", "stderr"] as const) {
      const file = files[stream];
      if (file === undefined) continue;
      try {
        out.fds.set(stream, { fd: openSync(file, "a"), file });
      } catch (err) {
        out.close();
        return {
          error: `cannot open the ${stream} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        };
      }
    }
    return out;
  }

  /** Appends `text`; a write that fails closes that file and returns why (once), else undefined. */
  write(stream: Stream, text: string): string | undefined {
    const f = this.fds.get(stream);
    if (!f) return undefined;
    try {
      writeSync(f.fd, text);
      return undefined;
    } catch (err) {
      this.fds.delete(stream);
      closeQuietly(f.fd);
      return `writing the ${stream} file ${f.file} failed (${(err as Error).message}); it is incomplete`;
    }
  }

  close(): void {
    for (const { fd } of this.fds.values()) closeQuietly(fd);
    this.fds.clear();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closing is the last thing done with the file; there is nothing left to save.
  }
}
