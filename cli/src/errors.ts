// What the command tells the user when it cannot do what was asked: one line, and the exit code.

/** Exit codes of every command (the README's table). */
export const EXIT = {
  ok: 0,
  /** The thing asked for failed: a run that did not succeed, invalid DAG files, an API error. */
  failed: 1,
  /** The command line was wrong: an unknown flag, a missing argument. */
  usage: 2,
} as const;

export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}
