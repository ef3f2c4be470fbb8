// Sizes that hold together: what validates can be passed to a process, reported back and
// stored; each limit is refused where it is first known, with a 4xx naming it.
import { describe, expect, it } from "vitest";
import { MAX_COMMAND_BYTES, MAX_OUTPUT_BYTES, MAX_PARAMS_BYTES } from "../../../src/limits";
import { api, complete, createDag, details, lease, nodeOf, startDag } from "../helpers";

describe("outputs", () => {
  it("refuses a maxOutputSize over the limit of an output", async () => {
    const spec = `maxOutputSize: ${MAX_OUTPUT_BYTES + 1}\nsteps:\n  - name: s\n    command: echo\n`;
    const r = await api("POST", "/dags", { name: "wide-out", spec });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/maxOutputSize must be at most 65536 \(the limit of an output\)/);
  });

  it("asks the runner for an output no larger than a process's environment takes", async () => {
    await createDag("default-out", "steps:\n  - name: s\n    command: echo\n    output: OUT\n");
    await startDag("default-out");
    const [l] = await lease();
    expect(l.exec.maxOutputBytes).toBe(MAX_OUTPUT_BYTES);
    await complete(l, 0, { output: "x" });
  });

  it("refuses a completion whose output is over the limit with a 413, leaving the step running", async () => {
    await createDag("fat-out", "steps:\n  - name: s\n    command: echo\n    output: OUT\n");
    const runId = await startDag("fat-out");
    const [l] = await lease();
    const r = await complete(l, 0, { output: "x".repeat(MAX_OUTPUT_BYTES + 1) });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: "bad_request", details: { field: "output" } });
    expect(nodeOf(await details("fat-out", runId), "s").statusLabel).toBe("running");
    expect((await complete(l, 0, { output: "x".repeat(MAX_OUTPUT_BYTES) })).status).toBe(200);
    expect((await details("fat-out", runId)).statusLabel).toBe("succeeded");
  });

  it("fails the step whose output would bring the run's outputs past their limit, saying so", async () => {
    const steps = Array.from(
      { length: 18 },
      (_, i) => `  - name: s${i + 1}\n    command: echo\n    output: O${i + 1}\n`,
    );
    await createDag("many-out", `steps:\n${steps.join("")}`);
    const runId = await startDag("many-out");
    // 60,000 bytes each: seventeen fit in 1 MiB, eighteen do not.
    for (let i = 1; i <= 18; i++) {
      const [l] = await lease();
      expect(l.stepName).toBe(`s${i}`);
      expect((await complete(l, 0, { output: "x".repeat(60_000) })).status).toBe(200);
    }
    const d = await details("many-out", runId);
    expect(nodeOf(d, "s17").statusLabel).toBe("succeeded");
    expect(nodeOf(d, "s18")).toMatchObject({
      statusLabel: "failed",
      error: expect.stringMatching(/output O18 would bring the run's outputs to \d+ bytes, over the limit of 1 MiB/),
    });
  });
});

describe("commands, params and bodies", () => {
  it("refuses a command over the limit of a command, pointing to script", async () => {
    const spec = `steps:\n  - name: s\n    command: echo ${"x".repeat(MAX_COMMAND_BYTES)}\n`;
    const r = await api("POST", "/dags", { name: "long-cmd", spec });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/steps\[0\]\.command is \d+ bytes, over the limit of 64 KiB for a command/);
  });

  it("refuses params over their limit at start, creating no run", async () => {
    await createDag("big-params", "params: A\nsteps:\n  - name: s\n    command: echo $A\n");
    const r = await api("POST", "/dags/big-params/start", { params: `A=${"x".repeat(MAX_PARAMS_BYTES)}` });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: "bad_request", details: { field: "params" } });
    expect(r.body.message).toMatch(/limit of 64 KiB for params/);
    expect((await api("GET", "/dag-runs/big-params")).body.dagRuns).toEqual([]);
  });

  it("refuses a request body over the limit with a 413 naming it", async () => {
    const r = await api("POST", "/dags/validate", { spec: "x".repeat(1024 * 1024) });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: "bad_request", message: expect.stringMatching(/larger than 1 MiB/) });
  });
});
