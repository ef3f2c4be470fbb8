// A step whose command is a simple command (simple-command.ts) and whose shell is the host's
// default is exec'd without the shell: `$SHELL -c "/bin/true"` costs the exec of the shell before
// the exec of the program (BENCHMARKS.md "A simple command without a shell"). What the step sees
// stays what the shell would have given it: the same program found the same way, the same
// environment (the variables the shell itself sets or drops, copied below) and, when the command
// cannot run, the shell's exit status (127, 126) and a line on stderr (exec-failure.ts).
//
// Only the shells whose `-c` we copied exactly are skipped: bash and dash (what `sh` is on
// Debian, Ubuntu and Fedora), found by resolving `$SHELL`'s links. zsh reads `~/.zshenv` on every
// `-c`, ksh and busybox's ash were not checked: they keep the shell, as does bash whenever its
// environment can change what a name means (BASH_ENV, exported functions, SHELLOPTS, ...).
import { accessSync, closeSync, constants, openSync, readSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import type { ExecSpec } from "../../src/shared/protocol.ts";
import { defaultShell } from "./command-line.ts";
import { simpleCommandWords } from "./simple-command.ts";

type ShellKind = "bash" | "dash";

export interface DirectCommand {
  /** What exec is given: the program PATH lookup found, else the word as written. */
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The command's name as written: what a failed exec's message names. */
  name: string;
}

let shellAlways = false;

/** With `true`, every step runs through its shell (the runner's `--shell-always`). */
export function setShellAlways(on: boolean): void {
  shellAlways = on;
}

/** Variables with which bash's `-c` could run something else than PATH's program, or say more. */
const BASH_ENV_GUARDS = ["BASH_ENV", "SHELLOPTS", "BASHOPTS", "EXECIGNORE"];
/** dash passes on only the variables whose names it could itself assign. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** bash warns and resets SHLVL from 1000 up: leave that to bash. */
const MAX_SHLVL = 998;

/**
 * How to exec `exec` without its shell, or undefined when the shell must run it. `env` is the
 * full environment the shell would have been given, `cwd` the step's working directory.
 */
export function directCommand(
  exec: ExecSpec,
  scriptPath: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): DirectCommand | undefined {
  // A named shell (the step's or the DAG's) is the user's explicit choice: always used.
  if (shellAlways || scriptPath !== undefined || exec.shell.length > 0 || exec.command === undefined) return undefined;
  const words = simpleCommandWords(exec.command);
  const kind = shellKind(defaultShell(), env.PATH);
  if (!words || !kind) return undefined;
  if (kind === "bash" && Object.keys(env).some((k) => BASH_ENV_GUARDS.includes(k) || k.startsWith("BASH_FUNC_")))
    return undefined;
  // Without `$` the command cannot reference the step's positional args: `sh -c CMD dagflare
  // ARGS...` would ignore them too, so they are dropped here.
  const [name, ...args] = words as [string, ...string[]];
  const file = programFor(name, env.PATH, cwd);
  const shellEnv = file === undefined ? undefined : environmentOf(kind, env, cwd, file);
  if (file === undefined || shellEnv === undefined) return undefined;
  return { file, args, env: shellEnv, name };
}

/** bash or dash when `shell` (a path or a name looked up in PATH) is one of them, once its links are resolved. */
const kinds = new Map<string, ShellKind | undefined>();
function shellKind(shell: string, pathVar: string | undefined): ShellKind | undefined {
  const key = `${shell}\0${pathVar ?? ""}`;
  if (!kinds.has(key)) {
    const found = shell.includes("/") ? shell : findExecutable(shell, pathVar);
    let base: string | undefined;
    try {
      base = found === undefined ? undefined : path.basename(realpathSync(found));
    } catch {
      // Not there: the shell reports it when it is started.
    }
    kinds.set(key, base === "bash" || base === "dash" ? base : undefined);
  }
  return kinds.get(key);
}

/**
 * The file exec is to run for `name`: PATH's first executable match, or `name` itself when it
 * has a slash or nothing matches (exec then fails as the shell's would: 127 or 126). Undefined
 * when the shell must decide: PATH unset or relative, or a match that is neither a binary nor a
 * `#!` script (the shell would read such a file itself, as bash or dash, where exec would
 * hand it to `/bin/sh`).
 */
function programFor(name: string, pathVar: string | undefined, cwd: string): string | undefined {
  if (!pathVar || pathVar.split(":").some((dir) => !dir.startsWith("/"))) return undefined;
  const found = name.includes("/") ? path.resolve(cwd, name) : findExecutable(name, pathVar);
  if (found === undefined || !isExecutableFile(found)) return name;
  if (!startsAsProgram(found)) return undefined;
  return name.includes("/") ? name : found;
}

function findExecutable(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? "").split(":")) {
    // As bash names it in `$_`: the PATH entry as written, a slash, the name.
    const candidate = `${dir}/${name}`;
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True for an ELF binary or a `#!` script: what exec runs as the shell would. */
function startsAsProgram(file: string): boolean {
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const n = readSync(fd, head, 0, 4, 0);
    return (n >= 2 && head[0] === 0x23 && head[1] === 0x21) || (n === 4 && head.toString("latin1") === "\x7fELF");
  } catch {
    // Unreadable (execute-only): the shell decides.
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The environment `kind -c` gives the program it execs; undefined when only the shell can say. */
function environmentOf(
  kind: ShellKind,
  env: NodeJS.ProcessEnv,
  cwd: string,
  file: string,
): NodeJS.ProcessEnv | undefined {
  const out: NodeJS.ProcessEnv = { ...env };
  // Both keep an inherited PWD that names the working directory, else set the physical path.
  out.PWD = namesDir(env.PWD, cwd) ? env.PWD : realpathSync(cwd);
  if (kind === "dash") {
    for (const key of Object.keys(out)) if (!SHELL_NAME.test(key)) delete out[key];
    return out;
  }
  // bash counts itself in SHLVL and counts itself out again when it execs the one command.
  const level = /^\s*[+-]?\d+\s*$/.test(env.SHLVL ?? "") ? Math.max(0, Number.parseInt(env.SHLVL ?? "", 10)) : 0;
  if (level > MAX_SHLVL) return undefined;
  out.SHLVL = String(level);
  const old = env.OLDPWD;
  if (old !== undefined && !isDirectory(path.resolve(cwd, old))) delete out.OLDPWD;
  out._ = file;
  return out;
}

function namesDir(pwd: string | undefined, cwd: string): pwd is string {
  if (!pwd?.startsWith("/")) return false;
  try {
    const [a, b] = [statSync(pwd), statSync(cwd)];
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
