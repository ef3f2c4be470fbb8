// Shells, scripts and the files of a run on the runner's host, end to end on a real runner
// against one `wrangler dev`: the host's default shell, a script's `#!` line, backticks in an
// output file's path, DAG_RUN_*_FILE and the step references `${id.stdout}`, `${id.stderr}`,
// `${id.exitCode}`.
import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, stepLogText, tempDir } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["files-a"], leaseTtlMs: 3_000 });
});

afterAll(async () => {
  await stack?.stop();
});

async function runDag(name: string, spec: string) {
  const runId = await startDagRun(stack, name, spec);
  const details = await runEnded(stack, name, runId);
  const node = (step: string) => details.nodes.find((n: { step: { name: string } }) => n.step.name === step);
  const log = (step: string, stream?: string) => stepLogText(stack, name, runId, step, stream);
  return { runId, details, node, log };
}

describe("shells and scripts, end to end on a real runner", () => {
  it("runs a step with the runner host's $SHELL, the DAG's shell over it, and a script with its #! interpreter", async () => {
    const r = await runDag(
      "files-shells",
      `type: graph
steps:
  - name: host-default
    command: readlink /proc/$$/exe; echo done
  - name: named
    shell: sh
    command: readlink /proc/$$/exe; echo done
  - name: node-script
    script: |
      #!/usr/bin/env node
      const self = require("node:fs").readFileSync(process.argv[1], "utf8")
      console.log(self.startsWith("#!/usr/bin/env node") ? "node ran its script file" : "node ran something else")
`,
    );
    expect(r.details.statusLabel).toBe("succeeded");
    const hostShell = realpathSync(process.env.SHELL || "/bin/sh");
    // `; echo done`: a shell may exec a lone last command in its own place, readlink included.
    expect(await r.log("host-default")).toBe(`${hostShell}\ndone`);
    expect(await r.log("named")).toBe(`${realpathSync("/bin/sh")}\ndone`);
    expect(await r.log("node-script")).toBe("node ran its script file");
  });
});

describe("a run's files on the runner's host, end to end", () => {
  it("names real files in DAG_RUN_*_FILE, resolves ${id.stdout}, ${id.stderr} and ${id.exitCode}, and expands backticks in stdout paths", async () => {
    const dir = realpathSync(tempDir("out-files"));
    const r = await runDag(
      "files-refs",
      `type: graph
steps:
  - id: build
    command: echo built; echo warned >&2; exit 3
    continueOn:
      failure: true
  - name: report
    depends: [build]
    stdout: ${dir}/report-\`echo today\`-\${DAG_RUN_ID}.out
    command: |
      echo "out: $(cat \${build.stdout})"
      echo "err: $(cat \${build.stderr})"
      echo "code: \${build.exitCode}"
      grep -c "files-refs/build#1" "$DAG_RUN_LOG_FILE"
      echo "own: $DAG_RUN_STEP_STDOUT_FILE $DAG_RUN_STEP_STDERR_FILE"
`,
    );
    expect(r.node("build").statusLabel).toBe("failed");
    expect(r.node("report").statusLabel).toBe("succeeded");
    const lines = (await r.log("report")).split("\n");
    expect(lines.slice(0, 4)).toEqual(["out: built", "err: warned", "code: 3", expect.stringMatching(/^[1-9]\d*$/)]);
    const [own, stdoutFile, stderrFile] = (lines[4] ?? "").split(" ");
    expect(own).toBe("own:");
    // The step's own files on the host hold what it printed: all of stdout, and no stderr.
    expect(readFileSync(stdoutFile as string, "utf8")).toBe(`${lines.slice(0, 4).join("\n")}\n${lines[4]}\n`);
    expect(readFileSync(stderrFile as string, "utf8")).toBe("");
    expect(readFileSync(path.join(dir, `report-today-${r.runId}.out`), "utf8")).toBe(`${lines.join("\n")}\n`);
  });
});
