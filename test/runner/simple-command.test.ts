// Which command lines the runner may exec without a shell (runner/src/simple-command.ts).
import { describe, expect, it } from "vitest";
import { SHELL_BUILTINS, simpleCommandWords } from "../../runner/src/simple-command.ts";

describe("a simple command", () => {
  it.each([
    ["/bin/true", ["/bin/true"]],
    ["make -C build all", ["make", "-C", "build", "all"]],
    ["  rsync\t-a src/ host:dst/  ", ["rsync", "-a", "src/", "host:dst/"]],
    ["env FOO=1 ./job --user=a@b.c,d+e%f", ["env", "FOO=1", "./job", "--user=a@b.c,d+e%f"]],
  ])("%j is split into its words", (command, words) => {
    expect(simpleCommandWords(command)).toEqual(words);
  });

  it.each([
    ["a variable", "echo $HOME"],
    ["a single quote", "grep 'a b' f"],
    ["a double quote", 'grep "a" f'],
    ["a backslash", "ls a\\ b"],
    ["a glob", "ls *.txt"],
    ["a question-mark glob", "ls ?.txt"],
    ["a bracket glob", "ls [ab]"],
    ["a tilde", "ls ~"],
    ["a comment", "ls #x"],
    ["braces", "cp a{1,2}"],
    ["a newline", "ls\nls"],
    ["a redirection", "ls >out"],
    ["an input redirection", "cat <in"],
    ["a pipe", "ls | wc"],
    ["a list", "make && make install"],
    ["a sequence", "a; b"],
    ["a background job", "sleep 1 &"],
    ["a subshell", "(ls)"],
    ["a command substitution", "echo `date`"],
    ["an assignment first", "x=1 env"],
    ["a job as the command", "%1"],
    ["a non-ASCII letter", "café"],
    ["nothing", "   "],
  ])("with %s needs the shell", (_what, command) => {
    expect(simpleCommandWords(command)).toBeUndefined();
  });

  it.each([
    "true",
    "false",
    "echo -e a",
    "printf %s x",
    "test -f x",
    "cd /tmp",
    "exit 3",
    "export A",
    ". ./env.sh",
    "source ./env.sh",
    "eval ls",
    "exec /bin/true",
    "time ls",
    "kill 1",
    "pwd",
    "read x",
    "command ls",
    "type ls",
    "wait",
    "ulimit -n",
    "local x",
  ])("%j runs a builtin or keyword, so it keeps the shell", (command) => {
    expect(simpleCommandWords(command)).toBeUndefined();
  });

  it("counts bash's reserved words among what keeps the shell", () => {
    for (const word of ["if", "then", "fi", "for", "while", "until", "case", "function", "select", "coproc", "!"])
      expect(SHELL_BUILTINS.has(word)).toBe(true);
  });
});
