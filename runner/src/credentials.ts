// The runner's credential: read from a file (--token-file, $DAGFLARE_RUNNER_TOKEN_FILE or
// systemd's credential), never from the command line or the environment, so that the process
// that spawns steps never had it where a step could read it (/proc/PID/cmdline, environ).
import { readFileSync, statSync } from "node:fs";
import { UsageError } from "./config.ts";

/** The token in `file`: one line, the final newline dropped. Throws UsageError saying what is wrong. */
export function readTokenFile(file: string): string {
  let mode: number;
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UsageError(`token file ${file} is not a regular file`);
    mode = st.mode;
    text = readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  // As ssh does with private keys: a secret other users can read is no secret.
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8);
    throw new UsageError(`token file ${file} can be read by other users (mode ${octal}): chmod 600 ${file}`);
  }
  const token = text.replace(/\r?\n$/, "");
  if (token.trim() === "") throw new UsageError(`token file ${file} is empty`);
  if (/[\r\n]/.test(token)) throw new UsageError(`token file ${file} must hold the token on one line`);
  return token;
}
