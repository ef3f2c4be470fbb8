// A runner's credential end to end: real runners (token in a private file) against `wrangler
// dev`. Whatever a step names or prints, the token never reaches the server; a token made for
// one pool does not let its runner serve another.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner } from "../../scripts/stack.mjs";
import { RUNNER_TOKEN, runEnded, type Stack, startDagRun, startStack, stepLogText } from "./harness";

let stack: Stack;
let tokenFile: string;

beforeAll(async () => {
  stack = await startStack({ runners: ["cred-runner"] });
  tokenFile = stack.runners.get("cred-runner")?.tokenFile ?? "";
});

afterAll(async () => {
  await stack?.stop();
});

describe("the runner's token, against its steps", () => {
  it("never reaches the run details, even when a step's dir, stdout file or secret names it", async () => {
    const dags = {
      "cred-paths": `type: graph
steps:
  - name: dir
    command: pwd
    dir: /nonexistent/$DAGFLARE_RUNNER_TOKEN
  - name: stdout-file
    command: echo hi
    stdout: /nonexistent/\${DAGFLARE_RUNNER_TOKEN}.log
`,
      "cred-secret-file": `secrets:
  - name: STOLEN
    provider: file
    key: ${tokenFile}
steps:
  - name: use
    command: echo never
`,
      "cred-secret-env": `secrets:
  - name: STOLEN
    provider: env
    key: DAGFLARE_RUNNER_TOKEN
steps:
  - name: use
    command: echo never
`,
    };
    const errors: Record<string, string> = {};
    for (const [name, spec] of Object.entries(dags)) {
      const runId = await startDagRun(stack, name, spec);
      const details = await runEnded(stack, name, runId);
      expect(details.statusLabel, name).toBe("failed");
      expect(JSON.stringify(details), name).not.toContain(RUNNER_TOKEN);
      for (const node of details.nodes) {
        errors[`${name}/${node.step.name}`] = node.error;
        for (const stream of ["stdout", "stderr"]) {
          expect(await stepLogText(stack, name, runId, node.step.name, stream)).not.toContain(RUNNER_TOKEN);
        }
      }
    }
    expect(errors).toEqual({
      "cred-paths/dir": expect.stringMatching(/^working directory \/nonexistent\/.* does not exist$/),
      "cred-paths/stdout-file": expect.stringMatching(/nonexistent/),
      "cred-secret-file/use": "env STOLEN would hold the runner's own token; refused",
      "cred-secret-env/use": "secret STOLEN: DAGFLARE_RUNNER_TOKEN is the runner's own credential",
    });
  });

  it("is masked in the log and the output of a step that prints it", async () => {
    // This stack's steps run as the runner's user (root in CI), who can read the file.
    const spec = `steps:
  - name: leak
    command: cat ${tokenFile}; tr '\\\\0' '\\\\n' < /proc/$PPID/environ | grep -c '^PATH='
    output: LEAKED
`;
    const runId = await startDagRun(stack, "cred-print", spec);
    const details = await runEnded(stack, "cred-print", runId);
    expect(details.statusLabel).toBe("succeeded");
    expect(await stepLogText(stack, "cred-print", runId, "leak")).toBe("*****\n1");
    const outputs = await stack.api("GET", `/dag-runs/cred-print/${runId}/outputs`);
    expect(JSON.stringify(outputs.body)).not.toContain(RUNNER_TOKEN);
    expect(JSON.stringify(outputs.body)).toContain("*****");
  });

  it("of a pool's token does not let its runner serve another pool: the runner exits 3 saying why", async () => {
    const created = await stack.api("POST", "/runner-tokens", { name: "team a host", pools: ["team-a"] });
    expect(created.status).toBe(201);
    const runner = startRunner({
      server: stack.url,
      token: created.body.token,
      labels: "pool=team-b",
      id: "wrong-pool",
    });
    const code = await new Promise<number | null>((r) => runner.child.once("exit", (c) => r(c)));
    expect(code).toBe(3);
    expect(runner.output.join("\n")).toContain(
      `the server refused the runner token (403 forbidden: runner token ${created.body.id} serves the pools team-a, not "team-b")`,
    );
  });
});
