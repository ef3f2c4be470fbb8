// The keys about the runner's host, end to end on real runner processes against one
// `wrangler dev`: working directories, stdout/stderr files, .env files and secrets; and
// handlerOn.init, which prepares that host before the steps.
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, type Stack, startDagRun, startStack, stepLogText, tempDir } from "./harness";

let stack: Stack;
/** In the runner's environment only: the server must never see it. */
const RUNNER_SECRET = "e2e-s3cret-on-the-runner";

beforeAll(async () => {
  process.env.HOST_E2E_API_TOKEN = RUNNER_SECRET;
  stack = await startStack({ runners: ["host-a"], leaseTtlMs: 3_000 });
});

afterAll(async () => {
  await stack?.stop();
});

/** Creates and starts DAG `name`, waits for its end; `$DIR` in the spec is `dir`. */
async function runDag(name: string, spec: string, dir: string) {
  const runId = await startDagRun(stack, name, spec.replaceAll("$DIR", dir));
  const details = await runEnded(stack, name, runId);
  const node = (step: string) => details.nodes.find((n: { step: { name: string } }) => n.step.name === step);
  const log = (step: string, stream?: string) => stepLogText(stack, name, runId, step, stream);
  return { runId, details, node, log };
}

describe("workingDir, end to end on real runners", () => {
  it("runs steps in the DAG's workingDir, a relative step dir under it, and fails a step whose dir is missing", async () => {
    const dir = realpathSync(tempDir("workdir"));
    mkdirSync(path.join(dir, "sub"));
    const r = await runDag(
      "host-workdir",
      `type: graph
workingDir: $DIR
steps:
  - name: top
    command: pwd
  - name: sub
    command: pwd
    workingDir: sub
  - name: old
    command: pwd
    dir: sub
  - name: missing
    command: echo never
    workingDir: nowhere
`,
      dir,
    );
    expect(r.details.statusLabel).toBe("failed");
    expect(await r.log("top")).toBe(`${dir}`);
    expect(await r.log("sub")).toBe(`${dir}/sub`);
    expect(await r.log("old")).toBe(`${dir}/sub`);
    expect(r.node("missing").statusLabel).toBe("failed");
    expect(r.node("missing").error).toBe(`working directory ${dir}/nowhere does not exist`);
    expect(await r.log("missing")).toBe("");
  });
});

describe("stdout and stderr files, end to end on real runners", () => {
  it("appends a step's output to its files on the runner's host, and ships it as before", async () => {
    const dir = realpathSync(tempDir("outfiles"));
    const r = await runDag(
      "host-outfiles",
      `workingDir: $DIR
steps:
  - name: build
    command: echo built; echo warned >&2
    stdout: build.out
    stderr: $DIR/build.err
  - name: again
    command: echo again
    stdout: build.out
  - name: nowhere
    command: echo never
    stdout: missing/x.out
`,
      dir,
    );
    expect(r.details.statusLabel).toBe("failed");
    expect(readFileSync(path.join(dir, "build.out"), "utf8")).toBe("built\nagain\n");
    expect(readFileSync(path.join(dir, "build.err"), "utf8")).toBe("warned\n");
    expect(await r.log("build")).toBe("built");
    expect(await r.log("build", "stderr")).toBe("warned");
    expect(r.node("nowhere").error).toBe(`cannot open the stdout file ${dir}/missing/x.out: ENOENT`);
  });
});

describe("dotenv, end to end on real runners", () => {
  it("loads the default .env of the workingDir under the DAG's env, and fails on a missing named file", async () => {
    const dir = realpathSync(tempDir("dotenv"));
    writeFileSync(path.join(dir, ".env"), "# on the runner's host\nDB_HOST=db.local\nMODE=from-file\n");
    const r = await runDag(
      "host-dotenv",
      `workingDir: $DIR
env:
  - MODE: from-dag
  - URL: http://\${DB_HOST}/\${DAG_NAME}
steps:
  - name: show
    command: echo "$DB_HOST $MODE $URL"
`,
      dir,
    );
    expect(r.details.statusLabel).toBe("succeeded");
    expect(await r.log("show")).toBe("db.local from-dag http://db.local/host-dotenv");

    const missing = await runDag(
      "host-dotenv-missing",
      `workingDir: $DIR
dotenv: [.env, prod.env]
steps:
  - name: show
    command: echo never
`,
      dir,
    );
    // As Dagu, a missing file is skipped; the step's log says which.
    expect(missing.details.statusLabel).toBe("succeeded");
    expect(await missing.log("show")).toBe("never");
    expect(await missing.log("show", "stderr")).toBe(
      `[dagflare runner: dotenv file ${dir}/prod.env not found; skipped]`,
    );
  });
});

describe("secrets, end to end on real runners", () => {
  it("gives steps the runner's secrets and the server only masked text", async () => {
    const dir = realpathSync(tempDir("secrets"));
    writeFileSync(path.join(dir, "db-password"), "file-s3cret-value\n");
    const r = await runDag(
      "host-secrets",
      `workingDir: $DIR
secrets:
  - name: API_TOKEN
    provider: env
    key: HOST_E2E_API_TOKEN
  - name: DB_PASSWORD
    provider: file
    key: db-password
env:
  - AUTH: Bearer \${API_TOKEN}
steps:
  - name: use
    command: echo "auth=$AUTH db=$DB_PASSWORD"; echo "$DB_PASSWORD" >&2
    output: SEEN
  - name: check
    command: test "$AUTH" = "Bearer $HOST_E2E_API_TOKEN" && test "$DB_PASSWORD" = "$(cat db-password)" && echo matches
`,
      dir,
    );
    expect(r.details.statusLabel).toBe("succeeded");
    expect(await r.log("use")).toBe("auth=Bearer ***** db=*****");
    expect(await r.log("use", "stderr")).toBe("*****");
    expect(await r.log("check")).toBe("matches");
    const outputs = (await stack.api("GET", `/dag-runs/host-secrets/${r.runId}/outputs`)).body;
    expect(outputs.variables.SEEN).toBe("auth=Bearer ***** db=*****");
    const seen = JSON.stringify([
      r.details,
      outputs,
      (await stack.api("GET", `/dag-runs/host-secrets/${r.runId}/log`)).body,
      (await stack.api("GET", "/dags/host-secrets")).body,
    ]);
    expect(seen).not.toContain(RUNNER_SECRET);
    expect(seen).not.toContain("file-s3cret-value");
  });
});

describe("handlerOn.init, end to end on real runners", () => {
  it("prepares what the steps use before they run; when it fails, no step runs", async () => {
    const dir = realpathSync(tempDir("init"));
    const r = await runDag(
      "host-init",
      `workingDir: $DIR
handlerOn:
  init: echo prepared > state
steps:
  - name: use
    command: cat state
`,
      dir,
    );
    expect(r.details.statusLabel).toBe("succeeded");
    expect(r.details.onInit.statusLabel).toBe("succeeded");
    expect(await r.log("use")).toBe("prepared");

    const failing = await runDag(
      "host-init-fails",
      `workingDir: $DIR
handlerOn:
  init: exit 4
  exit: echo cleaned > cleaned
steps:
  - name: never
    command: touch ran
`,
      dir,
    );
    expect(failing.details.statusLabel).toBe("failed");
    expect(failing.node("never")).toMatchObject({
      statusLabel: "aborted",
      error: "handlerOn.init failed: exit status 4",
    });
    expect(existsSync(path.join(dir, "ran"))).toBe(false);
    expect(readFileSync(path.join(dir, "cleaned"), "utf8")).toBe("cleaned\n");
  });
});
