// Routing on real runners: labels, pools, and a step no live runner can take; and a runner
// whose token is revoked.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner } from "../../scripts/stack.mjs";
import { RUNNER_TOKEN, type Stack, startStack, tempDir, waitFor } from "./harness";

let stack: Stack;
const extra: Array<ReturnType<typeof startRunner>> = [];

beforeAll(async () => {
  stack = await startStack({ runners: [], leaseTtlMs: 3_000 });
  const add = (id: string, flags: { labels?: string; pool?: string }) => {
    const r = startRunner({ server: stack.url, token: RUNNER_TOKEN, concurrency: 2, id, labels: flags.labels });
    extra.push(r);
    return r;
  };
  add("cpu-1", {});
  add("gpu-1", { labels: "gpu=true" });
  add("team-a-1", { labels: "pool=team-a" });
});

afterAll(async () => {
  for (const r of extra) r.child.kill("SIGKILL");
  await stack?.stop();
});

async function run(name: string, spec: string) {
  expect((await stack.api("POST", "/dags", { name, spec })).status).toBe(201);
  const runId = (await stack.api("POST", `/dags/${name}/start`, {})).body.dagRunId as string;
  return waitFor(`${name} to finish`, async () => {
    const d = (await stack.api("GET", `/dag-runs/${name}/${runId}`)).body.dagRunDetails;
    return d.statusLabel === "succeeded" ? d : undefined;
  });
}

const runnerOf = async (name: string, runId: string, step: string) => {
  const log = (await stack.api("GET", `/dag-runs/${name}/${runId}/log`)).body.content as string;
  return new RegExp(`step ${step} attempt \\d+ leased to runner (\\S+)`).exec(log)?.[1];
};

describe("routing on real runners", () => {
  it("places each step of one run on a runner matching its selector, within its pool", async () => {
    const spec = `type: graph
steps:
  - name: prep
    command: echo prep
  - name: train
    depends: [prep]
    command: echo train
    workerSelector: {gpu: "true"}
  - name: report
    depends: [train]
    command: echo report
`;
    const d = await run("mixed", spec);
    expect(await runnerOf("mixed", d.dagRunId, "train")).toBe("gpu-1");
    for (const step of ["prep", "report"])
      expect(["cpu-1", "gpu-1"]).toContain(await runnerOf("mixed", d.dagRunId, step));
  });

  it("runs a pool's DAG only on that pool's runner", async () => {
    const d = await run("team-a-dag", "workerSelector: {pool: team-a}\nsteps:\n  - echo a\n  - echo b\n");
    for (const n of d.nodes) expect(await runnerOf("team-a-dag", d.dagRunId, n.step.name)).toBe("team-a-1");
  });

  it("says a step waits for a runner no live one matches, and GET /workers shows the labelled fleet", async () => {
    expect(
      (
        await stack.api("POST", "/dags", {
          name: "fpga",
          spec: "steps:\n  - name: f\n    command: echo f\n    workerSelector: {fpga: 'yes'}\n",
        })
      ).status,
    ).toBe(201);
    const runId = (await stack.api("POST", "/dags/fpga/start", {})).body.dagRunId as string;
    const node = await waitFor("the waiting reason", async () => {
      const n = (await stack.api("GET", `/dag-runs/fpga/${runId}`)).body.dagRunDetails.nodes[0];
      return n.error ? n : undefined;
    });
    expect(node.error).toBe("waiting: no live runner matches {pool=default, fpga=yes}");
    const workers = (await stack.api("GET", "/workers")).body.workers as Array<{ id: string; labels: object }>;
    expect(workers.map((w) => [w.id, w.labels])).toEqual(
      expect.arrayContaining([
        ["cpu-1", { pool: "default" }],
        ["gpu-1", { gpu: "true", pool: "default" }],
        ["team-a-1", { pool: "team-a" }],
      ]),
    );
    expect((await stack.api("POST", `/dag-runs/fpga/${runId}/stop`)).status).toBe(200);
  });

  it("refuses a revoked runner at its next call: it stops its step and exits 3, and the step finishes elsewhere", async () => {
    const created = await stack.api("POST", "/runner-tokens", { name: "short-lived" });
    expect(created.status).toBe(201);
    const dir = tempDir("revoked");
    // Only the runner with the new token can take this step, until the token is revoked.
    const revokable = startRunner({
      server: stack.url,
      token: created.body.token,
      concurrency: 1,
      id: "revokable",
      labels: "holder=yes",
    });
    extra.push(revokable);
    const exited = new Promise<number | null>((r) => revokable.child.once("exit", (code) => r(code)));
    const spec = `workerSelector: {holder: "yes"}
steps:
  - name: held
    command: echo "$DAGFLARE_ATTEMPT $$" >> ${dir}/starts; sleep 5; echo done
`;
    expect((await stack.api("POST", "/dags", { name: "revoked", spec })).status).toBe(201);
    const runId = (await stack.api("POST", "/dags/revoked/start", {})).body.dagRunId as string;
    await waitFor("the step to start on the revokable runner", async () => existsSync(path.join(dir, "starts")));
    const pid = Number(readFileSync(path.join(dir, "starts"), "utf8").trim().split(" ")[1]);
    await new Promise((r) => setTimeout(r, 800));

    const revokedAt = Date.now();
    expect((await stack.api("DELETE", `/runner-tokens/${created.body.id}`)).status).toBe(200);
    expect(await exited).toBe(3);
    // Its next call is a heartbeat, a third of the 3 s TTL away.
    expect(Date.now() - revokedAt).toBeLessThan(3_000);
    expect(revokable.output.join("\n")).toMatch(/runner token .* was revoked/);
    await waitFor(
      "the step's process to be stopped",
      async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5_000,
    );

    const backup = startRunner({
      server: stack.url,
      token: RUNNER_TOKEN,
      concurrency: 1,
      id: "backup",
      labels: "holder=yes",
    });
    extra.push(backup);
    const d = await waitFor(
      "the run to finish on another runner",
      async () => {
        const x = (await stack.api("GET", `/dag-runs/revoked/${runId}`)).body.dagRunDetails;
        return x.statusLabel === "succeeded" ? x : undefined;
      },
      30_000,
    );
    expect(await runnerOf("revoked", d.dagRunId, "held")).toBe("revokable");
    const log = (await stack.api("GET", `/dag-runs/revoked/${runId}/log`)).body.content as string;
    expect(log).toMatch(/step held attempt 2 leased to runner backup/);
  });
});
