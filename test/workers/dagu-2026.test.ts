// DAG files in current Dagu's form (snake_case keys, run:, namespaced references) through the
// API, as a client of current Dagu sends them: under /api/v1.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, complete, lease, startDag, USER_TOKEN } from "./helpers";

async function v1(method: string, path: string, body?: unknown) {
  const res = await exports.default.fetch(`http://dagflare.test/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${USER_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("a spec in current Dagu's form", () => {
  it("is refused when it writes one key both ways, naming both at the line, and nothing is stored", async () => {
    const spec = "max_active_runs: 1\nmaxActiveRuns: 2\nsteps:\n  - run: echo\n";
    const r = await v1("POST", "/dags", { name: "mixed", spec });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("bad_request");
    expect(r.body.details.errors).toEqual([
      'line 1, maxActiveRuns: "max_active_runs" and "maxActiveRuns" are the same key written two ways: keep one',
    ]);
    expect((await v1("GET", "/dags/mixed")).status).toBe(404);
  });

  it("is refused when a namespaced reference names no step or no output, each at its line", async () => {
    const spec = `steps:
  - id: build
    run: echo v1
    output: TAG
  - run: echo \${steps.biuld.outputs.TAG}
  - run: echo \${steps.build.outputs.tag}
`;
    const r = await v1("POST", "/dags/validate", { spec });
    expect(r.status).toBe(200);
    expect(r.body.valid).toBe(false);
    expect(r.body.errors).toEqual([
      'line 5, steps[1].run: ${steps.biuld.outputs.TAG} names no step: no step has id "biuld"',
      "line 6, steps[2].run: ${steps.build.outputs.tag} names no output of step build: its output is TAG",
    ]);
  });

  it("is refused when a step reads an output of a step it does not run after", async () => {
    const spec = `type: graph
steps:
  - id: build
    run: echo v1
    output: TAG
  - id: deploy
    run: echo \${steps.build.outputs.TAG}
`;
    const r = await api("POST", "/dags/validate", { spec });
    expect(r.body.errors).toEqual([
      'line 7, steps[1].run: ${steps.build.outputs.TAG} is read by step "deploy", which does not run after step "build": add it to depends',
    ]);
  });

  it("runs with its references resolved: a later step gets the output of an earlier one", async () => {
    const spec = `params:
  - region: eu
steps:
  - id: build
    run: echo v1
    output: TAG
  - id: deploy
    run: deploy \${steps.build.outputs.TAG} \${params.region}
    env:
      - TARGET: \${params.region}-\${steps.build.outputs.TAG}
`;
    expect((await v1("POST", "/dags", { name: "form2026", spec })).status).toBe(201);
    await startDag("form2026");
    const [build] = await lease();
    expect(build.exec.command).toBe("echo v1");
    const done = await complete(build, 0, { output: "v7", next: { runnerId: "runner-test", max: 1 } });
    const [deploy] = done.body.next;
    expect(deploy.exec.command).toBe("deploy ${TAG} ${region}");
    expect(deploy.exec.env).toMatchObject({ TAG: "v7", region: "eu", TARGET: "eu-v7" });
  });
});
