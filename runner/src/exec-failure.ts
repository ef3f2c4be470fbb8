// What a step that is exec'd without its shell (direct-exec.ts) shows when its command cannot
// run: the shell's answer, an exit status of 127 when nothing by that name was found and 126
// when it was found but could not be run, and one line on the step's stderr naming the command.
// The fork helper says the same from its child (fork-helper-script.ts); this is spawn's side,
// where the failed exec comes back as an "error" event instead of an exit.
import { getSystemErrorMap } from "node:util";

/** The errors of exec itself, as opposed to spawn's own (fork failing, no memory). */
const EXEC_ERRORS = new Set([
  "ENOENT",
  "EACCES",
  "ENOTDIR",
  "ENOEXEC",
  "EISDIR",
  "ELOOP",
  "ENAMETOOLONG",
  "ETXTBSY",
  "EPERM",
  "E2BIG",
]);

/** The exit status and stderr line for a failed exec of `name`, or undefined for another error. */
export function execFailure(name: string, err: NodeJS.ErrnoException): { exitCode: number; line: string } | undefined {
  const code = err.code ?? "";
  if (!EXEC_ERRORS.has(code)) return undefined;
  const notFound = code === "ENOENT";
  const text = (err.errno !== undefined && getSystemErrorMap().get(err.errno)?.[1]) || code;
  const reason = notFound && !name.includes("/") ? "command not found" : text[0]?.toUpperCase() + text.slice(1);
  return { exitCode: notFound ? 127 : 126, line: `dagflare: ${name}: ${reason}\n` };
}
