// Which command lines the runner may run without a shell: those a POSIX shell would itself only
// split at blanks and hand to a PATH lookup, as GNU make's "fast path" does for recipe lines.
// Anything else (a quote, an expansion, a glob, a redirection, an operator, an assignment, a
// builtin or a keyword) keeps the shell, which alone knows what it means.

/** One word of the conservative set: ASCII letters and digits and `_ @ % + = : , . / -`. */
const WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Names a shell runs itself rather than looking them up in PATH (POSIX special and regular
 * builtins, bash's and dash's builtins) or reads as syntax (bash's reserved words). A builtin
 * keeps the shell even where a binary of the same name exists: `echo -e`, `test` and `printf`
 * behave differently, and `cd`, `exit` or `export` have no binary at all.
 */
export const SHELL_BUILTINS: ReadonlySet<string> = new Set([
  // POSIX special builtins
  ...[":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set"],
  ...["shift", "times", "trap", "unset"],
  // POSIX regular builtins and the utilities shells build in
  ...["alias", "bg", "cd", "command", "false", "fc", "fg", "getopts", "hash", "jobs", "kill", "newgrp"],
  ...["pwd", "read", "true", "type", "ulimit", "umask", "unalias", "wait", "echo", "printf", "test", "["],
  // bash's builtins (and dash's `chdir`)
  ...["bind", "builtin", "caller", "compgen", "complete", "compopt", "declare", "dirs", "disown", "enable"],
  ...["help", "history", "let", "local", "logout", "mapfile", "popd", "pushd", "readarray", "shopt"],
  ...["source", "suspend", "typeset", "chdir"],
  // bash's reserved words
  ...["!", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in"],
  ...["select", "then", "time", "until", "while", "{", "}", "[[", "]]"],
]);

/**
 * The words of `command` when it is a simple command the shell would only look up and exec;
 * undefined when it needs the shell. Words are separated by spaces or tabs; the first is not an
 * assignment, a job (`%1`) or a builtin.
 */
export function simpleCommandWords(command: string): string[] | undefined {
  const words = command.split(/[ \t]+/).filter((w) => w !== "");
  const [first] = words;
  if (first === undefined) return undefined;
  if (!words.every((w) => WORD.test(w))) return undefined;
  if (first.includes("=") || first.startsWith("%") || SHELL_BUILTINS.has(first)) return undefined;
  return words;
}
